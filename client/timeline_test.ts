import { deepStrictEqual as eq } from "node:assert/strict";
import { type Member, type Message, unchanged } from "../lib/protocol.ts";
import type { Outgoing } from "./outbox.ts";
import { type Row, RUN_MS, timeline, type TimelineInput, unseenCount } from "./timeline.ts";

const ME = "me";
const DAY = 86_400_000;
/** Noon UTC on 2025-03-04, a Tuesday; "now" is the day after. */
const T0 = Date.UTC(2025, 2, 4, 12);
const NOW = T0 + DAY;

const msg = (seq: number, senderId: string, ts: number): Message => ({
  id: `m${seq}`,
  conversationId: "c1",
  seq,
  senderId,
  kind: "text",
  body: `b${seq}`,
  ts,
  ...unchanged(seq),
});
const member = (id: string, lastReadSeq: number): Member => ({
  id,
  username: id,
  displayName: id.toUpperCase(),
  avatarUrl: null,
  role: "member",
  online: false,
  lastReadSeq,
});
const send = (id: string, ts: number, failed: string | null = null): Outgoing => ({
  id,
  conversationId: "c1",
  body: id,
  ts,
  sentAt: 0,
  failed,
});

const input = (over: Partial<TimelineInput>): TimelineInput => ({
  messages: [],
  pending: [],
  members: null,
  marker: null,
  meId: ME,
  kind: "direct",
  local: false,
  now: NOW,
  ...over,
});

/** A row as a short string, to compare whole lists at a glance. */
function show(r: Row): string {
  switch (r.kind) {
    case "day":
      return `— ${r.label} —`;
    case "new":
      return "— new —";
    case "message":
      return [
        `${r.message.seq}`,
        r.mine ? "mine" : r.message.senderId,
        r.sender ? `name=${r.sender}` : "",
        r.meta ? "time" : "",
        r.status ? `[${r.status}]` : "",
      ].filter(Boolean).join(" ");
    case "pending":
      return `pending ${r.send.id}${r.send.failed ? " failed" : ""}`;
    case "system":
      return `· ${r.text} ·`;
  }
}
const rows = (over: Partial<TimelineInput>) => timeline(input(over)).map(show);

Deno.test("an empty conversation shows no rows", () => {
  eq(rows({}), []);
});

Deno.test("a day separator opens each calendar day, named relative to today", () => {
  const messages = [
    msg(1, "ann", T0 - 3 * DAY),
    msg(2, "ann", T0),
    msg(3, "ann", NOW),
  ];
  eq(rows({ messages }), [
    "— Saturday, March 1, 2025 —",
    "1 ann time",
    "— Yesterday —",
    "2 ann time",
    "— Today —",
    "3 ann time",
  ]);
});

Deno.test("one sender's run shares a time line; a pause or another sender ends it", () => {
  const messages = [
    msg(1, "ann", T0),
    msg(2, "ann", T0 + 60_000),
    msg(3, "ann", T0 + 60_000 + RUN_MS + 1),
    msg(4, "bob", T0 + 60_000 + RUN_MS + 2),
  ];
  eq(rows({ messages }), [
    "— Yesterday —",
    "1 ann",
    "2 ann time",
    "3 ann time",
    "4 bob time",
  ]);
});

Deno.test("in a group, the sender's name opens each run of theirs, never on ours", () => {
  const messages = [
    msg(1, "ann", T0),
    msg(2, "ann", T0 + 1),
    msg(3, ME, T0 + 2),
    msg(4, "ann", T0 + 3),
    msg(5, "gone", T0 + 4),
  ];
  const members = [member("ann", 0), member(ME, 5)];
  eq(rows({ messages, members, kind: "group" }), [
    "— Yesterday —",
    "1 ann name=ANN",
    "2 ann time",
    "3 mine time [Sent]",
    "4 ann name=ANN time",
    "5 gone name=Someone time",
  ]);
  eq(rows({ messages, members, kind: "direct" })[1], "1 ann", "no names in a direct chat");
});

Deno.test("a sender who left keeps their current name; a deleted account says so", () => {
  const messages = [msg(1, "gone", T0), msg(2, ME, T0 + 1), msg(3, "erased", T0 + 2)];
  const members = [member(ME, 3)];
  const authors = new Map([
    ["gone", { id: "gone", username: "grace", displayName: "Grace Hopper", avatarUrl: null }],
    ["erased", null],
  ]);
  eq(rows({ messages, members, kind: "group", authors }), [
    "— Yesterday —",
    "1 gone name=Grace Hopper time",
    "2 mine time [Sent]",
    "3 erased name=Deleted account time",
  ]);
});

Deno.test("our newest message carries the read mark: Sent, Read, or Read by N", () => {
  const messages = [msg(1, ME, T0), msg(2, ME, T0 + 1), msg(3, "ann", T0 + 2)];
  const last = (over: Partial<TimelineInput>) => rows({ messages, ...over })[2];
  eq(last({ members: null }), "2 mine time [Sent]");
  eq(last({ members: [member(ME, 3), member("ann", 1)] }), "2 mine time [Sent]");
  eq(last({ members: [member(ME, 3), member("ann", 2)] }), "2 mine time [Read]");
  eq(
    last({ kind: "group", members: [member(ME, 3), member("ann", 3), member("bob", 2)] }),
    "2 mine time [Read by 2]",
  );
  eq(rows({ messages })[1], "1 mine", "only the newest of ours is marked");
});

Deno.test("the new-messages line sits after the last message read", () => {
  const messages = [1, 2, 3, 4].map((s) => msg(s, "ann", T0 + s));
  eq(rows({ messages, marker: 2 }), [
    "— Yesterday —",
    "1 ann",
    "2 ann",
    "— new —",
    "3 ann",
    "4 ann time",
  ]);
  eq(rows({ messages, marker: 0 })[1], "— new —", "all unread: the line opens the list");
  eq(rows({ messages, marker: 4 }).includes("— new —"), false, "all read: no line");
  eq(rows({ messages, marker: null }).includes("— new —"), false);
});

Deno.test("pending sends follow the messages, and end our run", () => {
  const messages = [msg(1, ME, NOW - 1000)];
  eq(rows({ messages, pending: [send("p1", NOW), send("p2", NOW + 1, "Too long.")] }), [
    "— Today —",
    "1 mine time [Sent]",
    "pending p1",
    "pending p2 failed",
  ]);
  // A pending send a day after the last message gets its own separator.
  eq(rows({ messages: [msg(1, "ann", T0)], pending: [send("p1", NOW)] }), [
    "— Yesterday —",
    "1 ann time",
    "— Today —",
    "pending p1",
  ]);
});

Deno.test("the jump button counts what came below the line while scrolled up", () => {
  eq(unseenCount(5, false, 9), 4);
  eq(unseenCount(5, true, 9), 0);
  eq(unseenCount(null, false, 9), 0);
});

Deno.test("group changes are lines in order with the messages, and break a sender's run", () => {
  const sys = (seq: number, ts: number, system: Message["system"]): Message => ({
    ...msg(seq, system!.actorId, ts),
    kind: "system",
    body: "",
    system,
  });
  const messages = [
    sys(1, T0, { action: "created", actorId: "ann", title: "Crew" }),
    msg(2, "ann", T0 + 1),
    sys(3, T0 + 2, { action: "added", actorId: "ann", userId: "gone" }),
    msg(4, "ann", T0 + 3),
    sys(5, T0 + 4, { action: "owner_changed", actorId: "ann", userId: ME }),
    msg(6, ME, T0 + 5),
  ];
  const members = [member("ann", 6), member(ME, 6)];
  const authors = new Map([["gone", {
    id: "gone",
    username: "g",
    displayName: "Grace",
    avatarUrl: null,
  }]]);
  eq(rows({ messages, members, kind: "group", authors }), [
    "— Yesterday —",
    "· ANN created the group “Crew” ·",
    "2 ann name=ANN time",
    "· ANN added Grace ·",
    "4 ann name=ANN time",
    "· ANN made you the owner ·",
    "6 mine time [Read by 1]",
  ]);
});
