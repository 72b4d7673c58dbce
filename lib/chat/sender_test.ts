import { deepStrictEqual as eq, equal, rejects } from "node:assert/strict";
import { AppError } from "../errors.ts";
import type { Message } from "../protocol.ts";
import { createGroup } from "../store/conversations.ts";
import { messagesAfter } from "../store/messages.ts";
import { withKv } from "../store/testing.ts";
import { SendBatcher } from "./sender.ts";

const draft = (senderId: string, body: string, id: string = crypto.randomUUID()) => ({
  id,
  senderId,
  kind: "text" as const,
  body,
});

/** A batcher over a real KV that records what it reports as stored, per call. */
function batcher(kv: Deno.Kv) {
  const calls: { convId: string; seqs: number[] }[] = [];
  const b = new SendBatcher(kv, (convId, msgs: Message[]) => {
    calls.push({ convId, seqs: msgs.map((m) => m.seq) });
  });
  return { b, calls };
}

Deno.test("sends submitted together share one commit, each conversation under gapless seqs", async () => {
  await withKv(async (kv) => {
    const x = await createGroup(kv, "ann", "X", ["bea"]);
    const y = await createGroup(kv, "ann", "Y", ["bea"]);
    const { b, calls } = batcher(kv);
    const outcomes = await Promise.all([
      b.submit(x.id, draft("ann", "x1")),
      b.submit(y.id, draft("bea", "y1")),
      b.submit(x.id, draft("bea", "x2")),
      b.submit(x.id, draft("ann", "x3")),
    ]);
    // Each stream opens with the group's creation (seq 1).
    eq(outcomes.map((o) => "stored" in o ? o.stored.seq : -1), [2, 2, 3, 4]);
    eq(calls, [{ convId: x.id, seqs: [2, 3, 4] }, { convId: y.id, seqs: [2] }]);
    const stored = await messagesAfter(kv, x.id, 1, 10);
    eq(stored.messages.map((m) => m.body), ["x1", "x2", "x3"]);
  });
});

Deno.test("the same id twice is stored once and both callers get that message", async () => {
  await withKv(async (kv) => {
    const x = await createGroup(kv, "ann", "X", ["bea"]);
    const { b } = batcher(kv);
    const d = draft("ann", "once");
    const [one, two] = await Promise.all([b.submit(x.id, d), b.submit(x.id, d)]);
    eq(one, two);
    equal((await messagesAfter(kv, x.id, 1, 10)).messages.length, 1);
  });
});

Deno.test("a resend of a stored id comes back as the existing record, nothing stored again", async () => {
  await withKv(async (kv) => {
    const x = await createGroup(kv, "ann", "X", ["bea"]);
    const { b } = batcher(kv);
    const d = draft("ann", "hello");
    const first = await b.submit(x.id, d);
    // A new batcher: no memory of the first commit, as after a restart.
    const again = await batcher(kv).b.submit(x.id, d);
    eq(again, {
      existing: { seq: 2, ts: "stored" in first ? first.stored.ts : 0, senderId: "ann" },
    });
    equal((await messagesAfter(kv, x.id, 1, 10)).messages.length, 1);
  });
});

Deno.test("a send by someone who is not a member is refused with not_found", async () => {
  await withKv(async (kv) => {
    const x = await createGroup(kv, "ann", "X", ["bea"]);
    const { b, calls } = batcher(kv);
    await rejects(b.submit(x.id, draft("zed", "let me in")), (e) => {
      return e instanceof AppError && e.code === "not_found";
    });
    eq(calls, []);
  });
});
