import { equal, rejects } from "node:assert/strict";
import { keys } from "./keys.ts";
import { getMany, probe } from "./kv.ts";

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
