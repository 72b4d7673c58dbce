import { deepStrictEqual as eq, strictEqual as same } from "node:assert/strict";
import type { ErrorBody } from "../lib/protocol.ts";
import * as c from "./changes.ts";
import type { ChangeFrame, Conv, Msg } from "./changes.ts";
import { shouldNotify } from "./notify.ts";
import * as r from "./reducer.ts";

const ME = "me";
const msg = (seq: number, over: Partial<Msg> = {}): Msg => ({
  id: `m${seq}`,
  conversationId: "c1",
  seq,
  senderId: "ann",
  kind: "text",
  body: `hello ${seq}`,
  ts: seq * 1000,
  version: seq,
  editedTs: null,
  deleted: false,
  reactions: [],
  replyTo: null,
  mentions: [],
  ...over,
});
const conv = (over: Partial<Conv> = {}): Conv => ({
  id: "c1",
  kind: "direct",
  title: "Ann",
  peer: null,
  lastMessage: null,
  lastSeq: 0,
  lastReadSeq: 0,
  unread: 0,
  lastActivityTs: 0,
  muted: false,
  archived: false,
  unreadMentions: 0,
  ...over,
});
const seqs = (ms: Msg[]) => ms.map((m) => m.seq);

Deno.test("an update replaces the held message only with a newer version", () => {
  const held = [msg(1), msg(2), msg(4)];
  const edited = msg(2, { body: "fixed", version: 5, editedTs: 5000 });
  const after = c.applyMessages(held, [edited], false);
  eq(after[1], edited);
  // The same change again (a sync after the live frame) changes nothing.
  same(c.applyMessages(after, [edited], false), after);
  // An older state never undoes a newer one.
  same(c.applyMessages(after, [msg(2)], false), after);
});

Deno.test("a change to a message on a page not loaded yet is not added (no hole)", () => {
  const held = [msg(40), msg(41)];
  eq(seqs(c.applyMessages(held, [msg(3, { version: 42, deleted: true })], true)), [40, 41]);
  // With the whole history held, a message below is real history and goes in.
  eq(seqs(c.applyMessages(held, [msg(3)], false)), [3, 40, 41]);
  // New messages after the last one are appended either way.
  eq(seqs(c.applyMessages(held, [msg(43)], true)), [40, 41, 43]);
});

Deno.test("a live position moves the thread on, or asks to sync the hole", () => {
  eq(c.advanced(4, 5), { position: 5, gap: false });
  eq(c.advanced(4, 7), { position: 4, gap: true });
  eq(c.advanced(4, 3), { position: 4, gap: false });
  eq(c.advanced(4, 4), { position: 4, gap: false });
  // After a sync, the position is the last version it returned, changes included.
  same(c.topVersion([msg(3, { version: 9 }), msg(8)]), 9);
});

Deno.test("a sync answer with changes and new messages: changes are not unread", () => {
  // The thread held up to position 10; the sync brings an edit of 8 (version 11) and a new
  // message 12 (seq 11 was a reaction to something else).
  const start = conv({ lastSeq: 10, lastReadSeq: 10, lastMessage: msg(8) });
  const edit = msg(8, { body: "edited", version: 11 });
  const fresh = msg(12);
  const after = c.withChanged(r.withMessages(start, [edit, fresh], ME), [edit, fresh]);
  eq([after.lastSeq, after.unread, after.lastMessage?.seq], [12, 1, 12]);
  // An edit of the last message shows in the list's preview, moving nothing else.
  const only = c.withChanged(r.withMessages(start, [edit], ME), [edit]);
  eq([only.lastMessage?.body, only.unread, only.lastActivityTs], ["edited", 0, 0]);
  const gone = msg(8, { body: "", deleted: true, version: 12 });
  eq((c.withChanged(start, [gone]).lastMessage as Msg).deleted, true);
});

Deno.test("mentions of us count until read; reading to the head clears them", () => {
  const start = conv({ kind: "group", lastSeq: 3, lastReadSeq: 3 });
  const m = [msg(4, { mentions: [ME] }), msg(5), msg(6, { mentions: ["bob"] })];
  const after = r.withMessages(start, m, ME) as Conv;
  eq([after.unread, after.unreadMentions], [3, 1]);
  const read = r.readUpTo(after, 6) as Conv;
  eq([read.unread, read.unreadMentions], [0, 0]);
  // Our own message reads everything before it.
  const mine = r.withMessages(after, [msg(7, { senderId: ME })], ME) as Conv;
  eq([mine.unread, mine.unreadMentions], [0, 0]);
});

Deno.test("the title counts unmuted conversations with unread messages", () => {
  const list = [
    conv({ id: "a", unread: 2 }),
    conv({ id: "b", unread: 1, muted: true }),
    conv({ id: "c", unread: 0 }),
    conv({ id: "d", unread: 5 }),
  ];
  same(c.unreadConversations(list), 2);
  same(c.countedTitle(2, "Ann · Parley"), "(2) Ann · Parley");
  same(c.countedTitle(0, "Parley"), "Parley");
});

Deno.test("a reaction toggles one per user and emoji, in order of first use", () => {
  let list = c.toggledReactions([], "👍", ME, true);
  list = c.toggledReactions(list, "🎉", "ann", true);
  list = c.toggledReactions(list, "👍", "ann", true);
  eq(list, [
    { emoji: "👍", count: 2, userIds: [ME, "ann"] },
    { emoji: "🎉", count: 1, userIds: ["ann"] },
  ]);
  same(c.toggledReactions(list, "👍", ME, true), list);
  eq(c.toggledReactions(list, "🎉", "ann", false).map((x) => x.emoji), ["👍"]);
  eq(c.toggledReactions(list, "👍", ME, false)[0], { emoji: "👍", count: 1, userIds: ["ann"] });
});

Deno.test("a reply's quote follows the original: its text, or that it was deleted", () => {
  const reply = { seq: 2, senderId: "ann", excerpt: "hello 2" };
  same(c.quoteText(reply, undefined), "hello 2");
  same(c.quoteText(reply, msg(2, { body: "now edited" })), "now edited");
  same(c.quoteText(reply, msg(2, { body: "", deleted: true })), "Message deleted");
  same(c.quoteText({ ...reply, excerpt: "" }, undefined), "Message deleted");
  same([...c.excerptOf({ body: "x".repeat(300), kind: "text" })].length, 100);
});

Deno.test("a reaction is one emoji; anything else is refused before it is sent", () => {
  for (const ok of ["👍", "❤️", "👩‍👩‍👧", "🇫🇷", "👍🏽"]) same(c.isOneEmoji(ok), true, ok);
  for (const bad of ["", "a", "👍👍", "ok👍", "1"]) same(c.isOneEmoji(bad), false, bad);
});

Deno.test("the mention picker opens on @ at the caret, and mentions split out of a body", () => {
  eq(c.mentionAt("hi @al", 6), { query: "al", start: 3 });
  eq(c.mentionAt("@", 1), { query: "", start: 0 });
  same(c.mentionAt("mail me@home", 12), null);
  same(c.mentionAt("hi @al there", 12), null);
  const names = new Map([["alice", "u1"], ["bob", "u2"]]);
  eq(c.splitMentions("hey @Alice and @carol, ask @bob.", names), [
    { text: "hey " },
    { text: "@Alice", userId: "u1" },
    { text: " and @carol, ask " },
    { text: "@bob", userId: "u2" },
    { text: "." },
  ]);
  eq(c.splitMentions("me@alice.com", names), [{ text: "me@alice.com" }]);
});

Deno.test("notifications: direct messages and mentions, never muted, ours or group changes", () => {
  const direct = conv();
  const group = conv({ kind: "group", title: "Team" });
  same(shouldNotify(msg(1), direct, ME), true);
  same(shouldNotify(msg(1), group, ME), false);
  same(shouldNotify(msg(1, { mentions: [ME] }), group, ME), true);
  same(shouldNotify(msg(1, { mentions: [ME] }), { ...group, muted: true }, ME), false);
  same(shouldNotify(msg(1), { ...direct, muted: true }, ME), false);
  same(shouldNotify(msg(1, { senderId: ME }), direct, ME), false);
  const system = msg(1, { system: { action: "renamed", actorId: "ann", title: "T" } });
  same(shouldNotify(system, direct, ME), false);
  same(shouldNotify(msg(1), undefined, ME), false);
});

Deno.test("our changes go out until acked, again after a reconnect, and a refusal reports", () => {
  let now = 1000;
  let open = false;
  const sent: string[] = [];
  const refused: [string, string][] = [];
  const q = new c.ChangeQueue({
    transport: (f) => open && sent.push(f.id) > 0,
    onRefused: (f: ChangeFrame, e: ErrorBody) => refused.push([f.id, e.code]),
    now: () => now,
  });
  q.add({ type: "edit", id: "e1", conversationId: "c1", seq: 3, body: "x" });
  eq(sent, []); // not connected: it waits
  open = true;
  q.flush();
  eq(sent, ["e1"]);
  q.flush();
  eq(sent, ["e1"]); // not again so soon
  now += c.CHANGE_RESEND_MS;
  q.flush();
  eq(sent, ["e1", "e1"]);
  q.reset();
  eq(sent, ["e1", "e1", "e1"]); // a new socket: at once
  same(q.acked("e1"), true);
  same(q.acked("e1"), false);
  q.add({ type: "delete", id: "d1", conversationId: "c1", seq: 3 });
  q.refused("d1", { code: "rate_limited", message: "Slow down.", retryAfterMs: 10_000 });
  same(q.has("d1"), true);
  q.refused("d1", { code: "forbidden", message: "Not yours." });
  eq(refused, [["d1", "forbidden"]]);
  same(q.size, 0);
});
