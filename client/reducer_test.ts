import { deepStrictEqual as eq, strictEqual as same } from "node:assert/strict";
import { type Conversation, type Member, type Message, unchanged } from "../lib/protocol.ts";
import * as r from "./reducer.ts";

const ME = "me";
const msg = (seq: number, senderId = "ann", ts = seq * 1000): Message => ({
  id: `m${seq}`,
  conversationId: "c1",
  seq,
  senderId,
  kind: "text",
  body: `hello ${seq}`,
  ts,
  ...unchanged(seq),
});
const conv = (id: string, over: Partial<Conversation> = {}): Conversation => ({
  id,
  kind: "direct",
  title: id,
  peer: null,
  lastMessage: null,
  lastSeq: 0,
  lastReadSeq: 0,
  unread: 0,
  lastActivityTs: 0,
  unreadMentions: 0,
  ...over,
});
const member = (id: string, lastReadSeq = 0): Member => ({
  id,
  username: id,
  displayName: id.toUpperCase(),
  role: "member",
  online: false,
  lastReadSeq,
});
const seqs = (ms: Message[]) => ms.map((m) => m.seq);

Deno.test("contiguousLast finds the end of the run without holes", () => {
  eq(r.contiguousLast([]), 0);
  eq(r.contiguousLast([1, 2, 3].map((s) => msg(s))), 3);
  eq(r.contiguousLast([4, 5, 7, 8].map((s) => msg(s))), 5);
});

Deno.test("mergeMessages keeps one message per seq, in order, whatever arrives when", () => {
  const held = [1, 2, 3].map((s) => msg(s));
  eq(seqs(r.mergeMessages(held, [msg(4), msg(5)])), [1, 2, 3, 4, 5]);
  eq(seqs(r.mergeMessages(held, [msg(2), msg(6), msg(0)])), [0, 1, 2, 3, 6]);
  same(r.mergeMessages(held, []), held);
  // The copy held wins over a later copy of the same seq.
  eq(r.mergeMessages(held, [{ ...msg(2), body: "other" }])[1].body, "hello 2");
});

Deno.test("a message frame moves the summary forward and counts unread", () => {
  const c = r.withMessages(conv("c1", { lastSeq: 3, lastReadSeq: 3 }), [msg(4), msg(5)], ME);
  eq([c.lastSeq, c.lastReadSeq, c.unread, c.lastMessage?.seq, c.lastActivityTs], [
    5,
    3,
    2,
    5,
    5000,
  ]);
});

Deno.test("our own message counts as read; an old one never steps the summary back", () => {
  const c = r.withMessages(conv("c1", { lastSeq: 3, lastReadSeq: 1 }), [msg(4, ME)], ME);
  eq([c.lastSeq, c.lastReadSeq, c.unread], [4, 4, 0]);
  const top = msg(9);
  const held = conv("c1", { lastSeq: 9, lastReadSeq: 2, lastMessage: top, lastActivityTs: 9000 });
  const back = r.withMessages(held, [msg(5)], ME);
  eq([back.lastSeq, back.lastMessage, back.lastActivityTs, back.unread], [9, top, 9000, 7]);
});

Deno.test("a receipt reads up to its seq and never backwards", () => {
  const c = conv("c1", { lastSeq: 10, lastReadSeq: 4, unread: 6 });
  eq([r.readUpTo(c, 8).lastReadSeq, r.readUpTo(c, 8).unread], [8, 2]);
  eq(r.readUpTo(c, 2).lastReadSeq, 4);
});

Deno.test("the list stays sorted by activity as conversations change", () => {
  const list = [conv("a", { lastActivityTs: 3 }), conv("b", { lastActivityTs: 2 })];
  eq(r.updated(list, "b", (c) => ({ ...c, lastActivityTs: 9 })).map((c) => c.id), ["b", "a"]);
  eq(r.upserted(list, conv("c", { lastActivityTs: 5 })).map((c) => c.id), ["c", "a", "b"]);
});

Deno.test("a conversation frame built before a message we show does not undo it", () => {
  const top = msg(7);
  const held = conv("a", { lastSeq: 7, lastReadSeq: 6, lastMessage: top, lastActivityTs: 7000 });
  const stale = conv("a", { title: "Renamed", lastSeq: 5, lastReadSeq: 3, lastActivityTs: 5000 });
  const [c] = r.upserted([held], stale);
  eq([c.title, c.lastSeq, c.lastMessage, c.lastActivityTs, c.lastReadSeq, c.unread], [
    "Renamed",
    7,
    top,
    7000,
    6,
    1,
  ]);
  // A newer one replaces the summary, and unread is worked out again.
  const [n] = r.upserted([held], conv("a", { lastSeq: 9, lastReadSeq: 0, unread: 99 }));
  eq([n.lastSeq, n.lastReadSeq, n.unread], [9, 6, 3]);
});

Deno.test("presence frames reach a direct chat's peer and the members lists", () => {
  const peer = { id: "ann", username: "ann", displayName: "Ann", online: false, lastSeen: 1 };
  const list = [conv("a", { peer }), conv("b")];
  const after = r.withPeerPresence(list, "ann", true, null);
  eq(after[0].peer, { ...peer, online: true, lastSeen: null });
  same(r.withPeerPresence(list, "bob", true, null), list);
  const members = [member("ann"), member("bob")];
  eq(r.withMemberPresence(members, "bob", true).map((m) => m.online), [false, true]);
  same(r.withMemberPresence(members, "zed", true), members);
});

Deno.test("read receipts move a member's cursor forward only", () => {
  const members = [member("ann", 5), member("bob", 2)];
  eq(r.withMemberRead(members, "ann", 3).map((m) => m.lastReadSeq), [5, 2]);
  eq(r.withMemberRead(members, "bob", 4).map((m) => m.lastReadSeq), [5, 4]);
});

Deno.test("typing shows until its time, and stops when that person's message arrives", () => {
  let t: r.Typing = {};
  t = r.typingStarted(t, "c1", "ann", 5_000);
  t = r.typingStarted(t, "c1", "bob", 9_000);
  eq(t, { c1: { ann: 5_000, bob: 9_000 } });
  eq(r.typingStopped(t, "c1", new Set(["ann"])), { c1: { bob: 9_000 } });
  same(r.typingStopped(t, "c1", new Set(["zed"])), t);
  same(r.typingExpired(t, 4_000), t);
  eq(r.typingExpired(t, 6_000), { c1: { bob: 9_000 } });
  eq(r.typingExpired(t, 10_000), {});
});

Deno.test("an ack turns our pending send into the message it became", () => {
  const send = { id: "s1", conversationId: "c1", body: "hi", ts: 5, sentAt: 9, failed: null };
  eq(r.ackedMessage(send, { seq: 12, ts: 77 }, ME), {
    id: "s1",
    conversationId: "c1",
    body: "hi",
    seq: 12,
    ts: 77,
    kind: "text",
    senderId: ME,
    ...unchanged(12),
  });
});

Deno.test("an ack turns our pending image or file into a message that carries its attachment", () => {
  const attachment = {
    id: "a1",
    conversationId: "c1",
    name: "cat.png",
    size: 10,
    type: "image/png",
    sha256: "0".repeat(64),
    width: 4,
    height: 3,
    previewUrl: "/api/attachments/a1/preview",
    url: "/api/attachments/a1",
  };
  const send = { id: "s2", conversationId: "c1", body: "", ts: 5, sentAt: 9, failed: null };
  const image = r.ackedMessage({ ...send, attachment }, { seq: 13, ts: 78 }, ME);
  eq([image.kind, image.attachment, image.body], ["image", attachment, ""]);
  const file = {
    ...attachment,
    type: "application/pdf",
    width: null,
    height: null,
    previewUrl: null,
  };
  eq(r.ackedMessage({ ...send, attachment: file }, { seq: 14, ts: 79 }, ME).kind, "file");
});
