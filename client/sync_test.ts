import { deepStrictEqual as eq } from "node:assert/strict";
import { syncOf, SyncQueue, syncReqId, SYNCS_IN_FLIGHT } from "./sync.ts";

/** A queue over a socket that is open or not; `held` says where each conversation stands. */
function setup(open = true) {
  const sent: [string, number][] = [];
  const state = { open };
  const held = new Map<string, number>();
  const q = new SyncQueue({
    send: (id, afterSeq, reqId) => {
      if (!state.open) return false;
      eq(syncOf(reqId), id);
      sent.push([id, afterSeq]);
      return true;
    },
    afterSeq: (id) => held.get(id),
  });
  return { q, sent, held, state, ids: () => sent.map(([id]) => id) };
}

Deno.test("a sync asks from where the client stands, once while it is out", () => {
  const { q, sent, held } = setup();
  held.set("a", 7);
  q.request("a");
  q.request("a");
  eq(sent, [["a", 7]]);
  eq(q.inFlight, 1);
});

Deno.test("a sync asked for again while out goes once the answer is in", () => {
  const { q, sent, held } = setup();
  held.set("a", 7);
  q.request("a");
  q.request("a");
  held.set("a", 12);
  q.done("a");
  eq(q.takeAgain("a"), true);
  eq(q.takeAgain("a"), false, "taken once");
  q.request("a");
  eq(sent, [["a", 7], ["a", 12]]);
});

Deno.test(`at most ${SYNCS_IN_FLIGHT} syncs are out; the rest go in order as answers come`, () => {
  const { q, held, ids } = setup();
  const convs = Array.from({ length: 20 }, (_, i) => `c${i}`);
  for (const c of convs) held.set(c, 0);
  for (const c of convs) q.request(c);
  eq(ids(), convs.slice(0, SYNCS_IN_FLIGHT));
  eq(q.inFlight, SYNCS_IN_FLIGHT);
  q.done("c0");
  q.done("c1");
  eq(ids(), convs.slice(0, SYNCS_IN_FLIGHT + 2));
  for (const c of convs) q.done(c);
  eq(ids(), convs, "each asked exactly once");
  eq(q.inFlight, 0);
});

Deno.test("a ready socket starts every sync afresh: old answers will never come", () => {
  const { q, held, ids } = setup();
  const convs = Array.from({ length: 10 }, (_, i) => `c${i}`);
  for (const c of convs) held.set(c, 0);
  for (const c of convs) q.request(c);
  q.request("c0"); // asked again while out
  q.reset();
  eq(q.inFlight, 0);
  eq(q.takeAgain("c0"), false);
  q.request("c9");
  eq(ids(), [...convs.slice(0, SYNCS_IN_FLIGHT), "c9"]);
});

Deno.test("nothing is counted out when the socket is closed or there is nothing to sync", () => {
  const { q, held, state, ids } = setup(false);
  held.set("a", 3);
  q.request("a");
  q.request("unknown");
  eq(q.inFlight, 0);
  state.open = true;
  q.request("a");
  eq(ids(), ["a"]);
});

Deno.test("sync request ids name their conversation; others are not syncs", () => {
  eq(syncOf(syncReqId("c:1")), "c:1");
  eq(syncOf("other"), null);
  eq(syncOf(undefined), null);
});
