import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { appendEvents, eventsHead, readEvents } from "./events.ts";
import { withKv } from "./testing.ts";

const added = (userId: string) => ({
  type: "member_added" as const,
  conversationId: "c1",
  userId,
});

Deno.test("appendEvents gives consecutive gapless seqs across commits, readable by range", async () => {
  await withKv(async (kv) => {
    equal(await eventsHead(kv), 0, "an empty log has head 0");
    const first = await appendEvents(kv, [added("ann"), added("bea")]);
    eq(first?.map((e) => e.seq), [1, 2]);
    const second = await appendEvents(kv, [added("cid")]);
    eq(second, [{ seq: 3, event: added("cid") }]);
    equal(await eventsHead(kv), 3);
    eq(await readEvents(kv, 0, 3), [...first!, ...second!]);
    eq((await readEvents(kv, 1, 2)).map((e) => e.seq), [2], "after is exclusive, upTo inclusive");
  });
});

Deno.test("readEvents of an empty or reversed range is empty", async () => {
  await withKv(async (kv) => {
    await appendEvents(kv, [added("ann")]);
    eq(await readEvents(kv, 1, 1), []);
    eq(await readEvents(kv, 3, 1), []);
    eq(await readEvents(kv, 1, 50), [], "nothing past the head");
  });
});

Deno.test("appendEvents writes the caller's mutation in the same commit", async () => {
  await withKv(async (kv) => {
    const logged = await appendEvents(kv, [added("ann")], (op) => op.set(["t", "x"], 7));
    eq(logged?.map((e) => e.seq), [1]);
    equal((await kv.get(["t", "x"])).value, 7);
  });
});

Deno.test("appendEvents whose own check fails writes nothing and returns null, head unmoved", async () => {
  await withKv(async (kv) => {
    await kv.set(["t", "x"], 1);
    const stale = { key: ["t", "x"], versionstamp: "00000000000000000000" };
    const logged = await appendEvents(
      kv,
      [added("ann")],
      (op) => op.check(stale).set(["t", "x"], 2),
    );
    equal(logged, null);
    equal(await eventsHead(kv), 0);
    eq(await readEvents(kv, 0, 10), []);
    equal((await kv.get(["t", "x"])).value, 1);
  });
});

Deno.test("concurrent appendEvents all land, each under its own seq, none lost", async () => {
  await withKv(async (kv) => {
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => appendEvents(kv, [added(`u${i}`)])),
    );
    const seqs = all.map((l) => l![0].seq).sort((a, b) => a - b);
    eq(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
    equal(await eventsHead(kv), 20);
    const users = (await readEvents(kv, 0, 20)).map((e) => (e.event as { userId: string }).userId);
    eq(users.sort(), Array.from({ length: 20 }, (_, i) => `u${i}`).sort());
  });
});
