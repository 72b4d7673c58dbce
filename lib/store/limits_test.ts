import { deepEqual, equal, ok } from "node:assert/strict";
import { keys } from "./keys.ts";
import { type BucketRecord, GroupTaker, takeTokens } from "./limits.ts";
import { withKv } from "./testing.ts";

Deno.test("GroupTaker: takes arriving together share one commit, each on its own bucket", async () => {
  await withKv(async (kv) => {
    const taker = new GroupTaker(kv);
    const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
    const answers = await Promise.all(users.map((u) => taker.take("send", u, 30, 0.01, 10)));
    for (const a of answers) deepEqual(a, { granted: 10, waitMs: 0 });
    equal(taker.commits, 1, "thirty leases, one commit");
    for (const u of users) {
      const rec = (await kv.get<BucketRecord>(keys.limit("send", u))).value;
      ok(rec && Math.abs(rec.tokens - 20) < 0.01, `${u}'s bucket lost exactly its 10`);
    }
  });
});

Deno.test("GroupTaker: two takes of one bucket in one run are served one after the other", async () => {
  await withKv(async (kv) => {
    const taker = new GroupTaker(kv);
    const [a, b, c] = await Promise.all([
      taker.take("send", "ann", 25, 0.01, 10),
      taker.take("send", "ann", 25, 0.01, 10),
      taker.take("send", "ann", 25, 0.01, 10),
    ]);
    deepEqual([a.granted, b.granted, c.granted], [10, 10, 5], "the third gets what is left");
  });
});

Deno.test("GroupTaker: a refusal writes nothing and says how long until a token", async () => {
  await withKv(async (kv) => {
    const taker = new GroupTaker(kv);
    equal((await taker.take("send", "ann", 2, 1, 2)).granted, 2);
    const before = await kv.get(keys.limit("send", "ann"));
    const refused = await taker.take("send", "ann", 2, 1, 1);
    equal(refused.granted, 0);
    ok(refused.waitMs > 0 && refused.waitMs <= 1000, `wait ${refused.waitMs} ms`);
    equal((await kv.get(keys.limit("send", "ann"))).versionstamp, before.versionstamp);
  });
});

Deno.test("GroupTaker: two isolates' takers on one KV never grant more than the bucket holds", async () => {
  await withKv(async (kv) => {
    // Two takers stand for two isolates racing for the same buckets (the commit's checks
    // make the loser read again); the refill is too slow to matter here.
    const a = new GroupTaker(kv);
    const b = new GroupTaker(kv);
    const takes = [];
    for (let i = 0; i < 20; i++) {
      for (const t of [a, b]) {
        takes.push(t.take("send", "ann", 30, 0.001, 4), t.take("send", "bea", 30, 0.001, 4));
      }
    }
    const got = await Promise.all(takes);
    const ann = got.filter((_, i) => i % 2 === 0).reduce((s, g) => s + g.granted, 0);
    const bea = got.filter((_, i) => i % 2 === 1).reduce((s, g) => s + g.granted, 0);
    equal(ann, 30, "ann's burst granted once between both");
    equal(bea, 30, "bea's too");
  });
});

Deno.test("takeTokens goes through one taker per KV handle", async () => {
  await withKv(async (kv) => {
    const got = await Promise.all(
      ["a", "b", "c"].map((u) => takeTokens(kv, "place", u, 20, 0.2, 1)),
    );
    deepEqual(got.map((g) => g.granted), [1, 1, 1]);
  });
});
