import { equal, ok, rejects } from "node:assert/strict";
import { keys } from "./keys.ts";
import { getMany, probe, WriteBatcher } from "./kv.ts";
import { withKv } from "./testing.ts";

Deno.test("probe answers while the store is open, throws once it is not, and writes nothing", async () => {
  const kv = await Deno.openKv(":memory:");
  await probe(kv);
  equal((await kv.get(keys.readyProbe())).versionstamp, null);
  kv.close();
  await rejects(() => probe(kv));
});

Deno.test("getMany reads more keys than KV's limit of 10 per call, in order", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const list = Array.from({ length: 25 }, (_, i) => ["n", i]);
    for (const key of list) await kv.set(key, key[1]);
    const got = await getMany<number>(kv, list);
    equal(got.map((e) => e.value).join(","), list.map((k) => k[1]).join(","));
  } finally {
    kv.close();
  }
});

Deno.test("WriteBatcher: plain writes made together share one commit, each resolved once stored", async () => {
  await withKv(async (kv) => {
    const writes = new WriteBatcher(kv);
    await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) => writes.set(["batched", i], { n: i }, { expireIn: 60_000 }),
      ),
    );
    equal(writes.commits, 1);
    const got = await getMany(kv, Array.from({ length: 40 }, (_, i) => ["batched", i]));
    equal(got.filter((e, i) => (e.value as { n: number })?.n === i).length, 40);
  });
});

Deno.test("WriteBatcher: a key written twice in one group keeps the later write", async () => {
  await withKv(async (kv) => {
    const writes = new WriteBatcher(kv);
    await kv.set(["gone"], 1);
    await Promise.all([
      writes.set(["kept"], 1),
      writes.set(["gone"], 2),
      writes.delete(["gone"]),
      writes.delete(["kept"]),
      writes.set(["kept"], 3),
    ]);
    equal((await kv.get(["kept"])).value, 3);
    equal((await kv.get(["gone"])).value, null);
  });
});

Deno.test("WriteBatcher: writes arriving during a commit go together in the next one", async () => {
  await withKv(async (kv) => {
    const writes = new WriteBatcher(kv);
    const first = writes.set(["a"], 1);
    // Queued after the first commit started: they wait for it, then share one.
    await Promise.resolve();
    await Promise.resolve();
    const rest = Array.from({ length: 10 }, (_, i) => writes.set(["b", i], i));
    await Promise.all([first, ...rest]);
    ok(writes.commits <= 2, `${writes.commits} commits`);
    equal((await kv.get(["b", 9])).value, 9);
  });
});
