/**
 * The fan-out's mix of changes (bench/changes.ts): the share of changes and of each kind is what
 * `--changes` asks for, reaction toggles always change something, edits only touch the sender's
 * own editable messages, and the comparison with a text-only run reads the goal right. Wrong
 * here, the benchmark's figures for issue 11 would measure something else than they say.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  type ChangeKind,
  type ChangeStats,
  compareRuns,
  isEditableBody,
  mixPhase,
  PhaseChanges,
  SenderMix,
  sendKind,
  summarizeChanges,
} from "./changes.ts";
import { Histogram } from "./histogram.ts";

Deno.test("sendKind makes a tenth of the sends changes, half reactions and half edits", () => {
  const counts = { message: 0, edit: 0, react: 0 };
  for (let gi = 0; gi < 200; gi++) {
    const perSender = { message: 0, edit: 0, react: 0 };
    for (let n = 0; n < 7; n++) perSender[sendKind(n, 0.1, mixPhase(gi), gi)]++;
    const changes = perSender.edit + perSender.react;
    assert(changes <= 1, `7 sends at 0.1 make at most one change (sender ${gi}: ${changes})`);
    for (const k of ["message", "edit", "react"] as const) counts[k] += perSender[k];
  }
  // 1,400 sends: 140 changes, give or take one per sender's rounding.
  const changes = counts.edit + counts.react;
  assert(Math.abs(changes - 140) <= 2, `changes ${changes}`);
  assert(Math.abs(counts.edit - counts.react) <= 2, `edits ${counts.edit}, reacts ${counts.react}`);
});

Deno.test("sendKind: a long run of one sender holds the fraction within one", () => {
  for (const f of [0.05, 0.1, 0.25, 0.5]) {
    let changes = 0;
    for (let n = 0; n < 1000; n++) {
      if (sendKind(n, f, mixPhase(17), 17) !== "message") changes++;
      assert(Math.abs(changes - (n + 1) * f) <= 1, `fraction ${f} at send ${n}`);
    }
  }
});

Deno.test("sendKind: no changes at 0, every send a change at 1, alternating kinds", () => {
  for (let n = 0; n < 50; n++) assertEquals(sendKind(n, 0, 0.7, 3), "message");
  const kinds = Array.from({ length: 6 }, (_, n) => sendKind(n, 1, 0, 0));
  assertEquals(kinds, ["react", "edit", "react", "edit", "react", "edit"]);
});

Deno.test("isEditableBody reads the mark after the phase, whatever the digits", () => {
  assertEquals(isEditableBody("t:1700000000000.25|p:0|e|xxxx"), true);
  assertEquals(isEditableBody("t:1700000000000.25|p:12|e|"), true);
  assertEquals(isEditableBody("t:1700000000000.25|p:12|r|e|"), false);
  assertEquals(isEditableBody("t:1700000000000.25|p:3|"), false, "an unmarked body");
  assertEquals(isEditableBody("hello |e|"), false, "not a bench body");
});

const CONV = "c1";
// deno-lint-ignore no-explicit-any
const parse = (text: string | null): any => (text === null ? null : JSON.parse(text));

/** An ack as the server sends it for a reaction, with the reactions after it. */
function reactAck(id: string, seq: number, emoji: string, userIds: string[]) {
  return {
    type: "ack",
    id,
    conversationId: CONV,
    seq,
    ts: 1,
    message: { reactions: userIds.length ? [{ emoji, count: userIds.length, userIds }] : [] },
  };
}

Deno.test("reactions toggle the sender's own state, never two in flight on one emoji", () => {
  const ph = new PhaseChanges(0, "");
  const sender = new SenderMix(4);
  ph.noteMessage(CONV, 10, "t:1|p:0|r|");
  // Only one target: every reaction is on message 10, with one of a few emoji.
  const inFlight = new Set<string>();
  const frames = [];
  for (let i = 0; i < 6; i++) {
    const f = parse(ph.frame("react", sender, "u4", CONV, `r${i}`, 0));
    if (!f) break;
    assertEquals(f.type, "react");
    assertEquals(f.seq, 10);
    assertEquals(f.on, true, "nothing is on yet");
    assert(!inFlight.has(f.emoji), `${f.emoji} twice in flight`);
    inFlight.add(f.emoji);
    frames.push(f);
  }
  assert(frames.length >= 2);
  // Acked: each is now on, so the next reaction with that emoji turns it off.
  let seq = 100;
  for (const f of frames) ph.onAck(reactAck(f.id, seq++, f.emoji, ["u4"]), 5);
  let off = null;
  for (let i = 0; i < 50 && !off; i++) {
    const f = parse(ph.frame("react", sender, "u4", CONV, `again${i}`, 0));
    if (f && inFlight.has(f.emoji)) off = f;
    else if (f) ph.onError(f.id, "rate_limited");
  }
  assert(off, "an emoji that is on comes up again");
  assertEquals(off.on, false);
  assertEquals(ph.toJSON([sender]).mismatched, 0);
});

Deno.test("a refused reaction leaves the state as it was and frees the emoji", () => {
  const ph = new PhaseChanges(0, "");
  const sender = new SenderMix(1);
  ph.noteMessage(CONV, 3, "t:1|p:0|r|");
  const f = parse(ph.frame("react", sender, "u1", CONV, "x", 0));
  ph.onError("x", "rate_limited");
  const stats = ph.toJSON([sender]);
  assertEquals(stats.kinds.react.errors, { rate_limited: 1 });
  assertEquals(stats.kinds.react.unanswered, 0);
  assertEquals(sender.toggles.get(`3 ${f.emoji}`), undefined);
  assertEquals(sender.inFlight.size, 0);
});

Deno.test("edits go to the sender's own acked editable messages; reactions to reactable ones", () => {
  const ph = new PhaseChanges(2, "pad");
  const sender = new SenderMix(0);
  // Nothing to edit or react to yet: the change is owed to a later send.
  assertEquals(ph.frame("edit", sender, "u0", CONV, "e0", 0), null);
  assertEquals(sender.owed, "edit");
  assertEquals(sender.next(0), "edit", "the owed change comes at the next send");
  const b1 = ph.messageBody(sender, "m1", 111);
  const b2 = ph.messageBody(sender, "m2", 112);
  assertEquals([b1, b2], ["t:111|p:2|e|pad", "t:112|p:2|r|pad"]);
  ph.noteMessageAck("m1", 41);
  ph.noteMessageAck("m2", 42);
  // Others see both; only the reactable one becomes a reaction target.
  ph.noteMessage(CONV, 41, b1);
  ph.noteMessage(CONV, 42, b2);
  const edit = parse(ph.frame("edit", sender, "u0", CONV, "e1", 500));
  assertEquals(edit, {
    type: "edit",
    id: "e1",
    conversationId: CONV,
    seq: 41,
    body: "t:500|p:2|e|pad",
  });
  const react = parse(ph.frame("react", new SenderMix(9), "u9", CONV, "r1", 0));
  assertEquals(react.seq, 42);
  // Another sender has no acked message of its own: its edit becomes a reaction.
  const other = parse(ph.frame("edit", new SenderMix(5), "u5", CONV, "e2", 0));
  assertEquals([other.type, other.seq], ["react", 42]);
});

Deno.test("updates: edits timed from their body, reactions only once their ack is here", () => {
  const ph = new PhaseChanges(0, "");
  const sender = new SenderMix(2);
  ph.noteMessage(CONV, 7, "t:1|p:0|r|");
  const f = parse(ph.frame("react", sender, "u2", CONV, "r", 1000));
  // Two receivers get the update before the actor's ack, one after.
  ph.onUpdate(`${CONV}#8`, "t:1|p:0|r|", 1, 1010, true);
  ph.onUpdate(`${CONV}#8`, "t:1|p:0|r|", 1, 1020, true);
  ph.onAck(reactAck("r", 8, f.emoji, ["u2"]), 1030);
  ph.onUpdate(`${CONV}#8`, "t:1|p:0|r|", 1, 1040, false);
  // An edit's update carries the edit's own send time in its body.
  ph.onUpdate(`${CONV}#9`, "t:2000|p:0|e|", 2000, 2050, true);
  // Another worker's reaction: counted, never timed.
  ph.onUpdate(`${CONV}#10`, "t:1|p:0|r|", 1, 1050, true);
  const s = ph.toJSON([sender]);
  assertEquals([s.kinds.react.deliveries, s.kinds.react.deliveriesInWindow], [4, 3]);
  assertEquals(s.reactTimed, 3);
  const react = new Histogram();
  react.merge(s.kinds.react.deliveryLatency);
  assertEquals(react.count, 3);
  assertEquals(react.max, 40);
  assertEquals(s.kinds.edit.deliveries, 1);
  assertEquals(s.kinds.edit.deliveryLatency.max, 50);
  assertEquals(s.acks, [[`${CONV}#8`, CONV, "react"]]);
});

Deno.test("summarizeChanges counts expected, seen and lost per kind across workers", () => {
  const empty = new Histogram().toJSON();
  const kind = (sent: number, acked: number) => ({
    sent,
    acked,
    unanswered: sent - acked,
    errors: {},
    ackLatency: empty,
    deliveryLatency: empty,
    deliveries: 0,
    deliveriesInWindow: 10,
  });
  const worker = (acks: [string, string, ChangeKind][]): ChangeStats => ({
    kinds: { edit: kind(1, 1), react: kind(2, 1) },
    acks,
    deferred: 0,
    neverMade: 0,
    mismatched: 0,
    reactTimed: 0,
  });
  // 5 members: each change is expected on 4 connections.
  const members = new Map([[CONV, 5]]);
  const received = new Map([[`${CONV}#8`, 4], [`${CONV}#9`, 3], [`${CONV}#1`, 4]]);
  const { summary, keys } = summarizeChanges(
    0.1,
    [worker([[`${CONV}#8`, CONV, "edit"]]), worker([[`${CONV}#9`, CONV, "react"]])],
    received,
    members,
    2,
  );
  assertEquals([...keys].sort(), [`${CONV}#8`, `${CONV}#9`]);
  assertEquals(
    [summary.edit.deliveriesExpected, summary.edit.deliveriesSeen, summary.edit.lost],
    [4, 4, 0],
  );
  assertEquals(
    [summary.react.deliveriesExpected, summary.react.deliveriesSeen, summary.react.lost],
    [4, 3, 1],
  );
  assertEquals([summary.react.sent, summary.react.acked, summary.react.unanswered], [4, 2, 2]);
  assertEquals(summary.edit.deliveredPerSec, 10, "20 in the window over 2 s");
});

Deno.test("compareRuns: ratios of the mixed run to text-only, and the 10% goal", () => {
  const text = { allDeliveredPerSec: 200_000, deliveryP99Ms: 100, ackP99Ms: 50 };
  assertEquals(
    compareRuns(text, { allDeliveredPerSec: 190_000, deliveryP99Ms: 108, ackP99Ms: 80 }),
    { allDeliveredRatio: 0.95, deliveryP99Ratio: 1.08, ackP99Ratio: 1.6, withinGoal: true },
  );
  assertEquals(
    compareRuns(text, { allDeliveredPerSec: 179_000, deliveryP99Ms: 90, ackP99Ms: 50 })
      .withinGoal,
    false,
    "delivered/s down 10.5%",
  );
  assertEquals(
    compareRuns(text, { allDeliveredPerSec: 200_000, deliveryP99Ms: 111, ackP99Ms: 50 })
      .withinGoal,
    false,
    "p99 up 11%",
  );
  assertEquals(
    compareRuns(text, { allDeliveredPerSec: 200_000, deliveryP99Ms: null, ackP99Ms: null }),
    { allDeliveredRatio: 1, deliveryP99Ratio: null, ackP99Ratio: null, withinGoal: false },
  );
});
