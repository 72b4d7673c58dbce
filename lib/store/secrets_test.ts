import { equal, notEqual } from "node:assert/strict";
import { withKv } from "./testing.ts";
import { keys } from "./keys.ts";
import { storedJwtSecret } from "./secrets.ts";

Deno.test("the first secret stored wins: racing callers and later calls all get it", async () => {
  await withKv(async (kv) => {
    let made = 0;
    const generate = () => `secret-${++made}`;
    const all = await Promise.all(Array.from({ length: 10 }, () => storedJwtSecret(kv, generate)));
    equal(new Set(all).size, 1, "everyone agrees");
    equal((await kv.get<string>(keys.jwtSecret())).value, all[0], "it is the stored one");
    const before = made;
    equal(await storedJwtSecret(kv, generate), all[0], "a restart reuses it");
    equal(made, before, "and generates nothing");
  });
});

Deno.test("each store has its own secret", async () => {
  await withKv(async (a) => {
    await withKv(async (b) => {
      notEqual(await storedJwtSecret(a, () => "a"), await storedJwtSecret(b, () => "b"));
    });
  });
});
