import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { render } from "preact-render-to-string";
import type { ChatProps } from "../client/state.ts";
import { type Conversation, type Message, unchanged } from "../lib/protocol.ts";
import { ChatPage } from "./ChatPage.tsx";

const T0 = Date.UTC(2025, 2, 4, 12);
const ada = { id: "ada", username: "ada", displayName: "Ada Owner", avatarUrl: null };
const bob = { id: "bob", username: "bob", displayName: "Bob Leaver", avatarUrl: null };
const cy = { id: "cy", username: "cy", displayName: "Cy Newcomer", avatarUrl: null };

const message = (seq: number, over: Partial<Message>): Message => ({
  id: `m${seq}`,
  conversationId: "g1",
  seq,
  senderId: "ada",
  kind: "text",
  body: "",
  ts: T0 + seq,
  ...unchanged(seq),
  ...over,
});
const system = (seq: number, s: NonNullable<Message["system"]>) =>
  message(seq, { kind: "system", senderId: s.actorId, system: s });

/** The page as a browser without script gets it, for Cy who joined after Bob left. */
function page(): string {
  const messages = [
    system(1, { action: "created", actorId: "ada", title: "Crew" }),
    system(2, { action: "added", actorId: "ada", userId: "bob" }),
    message(3, { senderId: "bob", body: "bob was here" }),
    system(4, { action: "left", actorId: "bob" }),
    system(5, { action: "renamed", actorId: "ada", title: "Crew 2" }),
    system(6, { action: "added", actorId: "ada", userId: "cy" }),
    system(7, { action: "owner_changed", actorId: "ada", userId: "cy" }),
  ];
  const conv: Conversation = {
    id: "g1",
    kind: "group",
    title: "Crew 2",
    peer: null,
    lastMessage: messages[6],
    lastSeq: 7,
    lastReadSeq: 7,
    unread: 0,
    lastActivityTs: T0 + 7,
    unreadMentions: 0,
    muted: false,
    archived: false,
  };
  const props: ChatProps = {
    me: cy,
    conversations: [conv],
    openId: "g1",
    messages,
    hasMore: false,
    members: [{ ...cy, role: "owner", online: true, lastReadSeq: 7 }],
    users: [ada, bob, cy],
  };
  return render(<ChatPage {...props} />);
}

/** The visible text of every element with this test id, in document order. */
function texts(html: string, testid: string): string[] {
  const re = new RegExp(`<[a-z]+ [^>]*data-testid="${testid}"[^>]*>(.*?)</[a-z]+>`, "g");
  return [...html.matchAll(re)].map((m) => m[1].replace(/<[^>]+>/g, ""));
}

Deno.test("group changes render as lines in order with the messages, without script", () => {
  const html = page();
  eq(texts(html, "system-line"), [
    "Ada Owner created the group “Crew”",
    "Ada Owner added Bob Leaver",
    "Bob Leaver left",
    "Ada Owner renamed the group to “Crew 2”",
    "Ada Owner added you",
    "Ada Owner made you the owner",
  ]);
  // Bob's message sits between his joining and his leaving, signed with his name.
  const at = (s: string) => html.indexOf(s);
  ok(at("added Bob Leaver") < at("bob was here") && at("bob was here") < at("Bob Leaver left"));
  eq(texts(html, "message-sender"), ["Bob Leaver"]);
  // The list previews the newest change as a sentence, with no unread badge.
  eq(texts(html, "conversation-preview"), ["Ada Owner made you the owner"]);
  eq(texts(html, "unread-badge"), []);
  eq(texts(html, "conversation-subtitle"), ["1 member"]);
});
