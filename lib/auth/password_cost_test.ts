import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { oldHash } from "../../tests/helpers/passwords.ts";
import {
  HASH_CONCURRENCY,
  hashesInFlight,
  hashPassword,
  needsRehash,
  verifyPassword,
} from "./password.ts";

Deno.test("hashPassword uses OWASP's scrypt row that keeps 16 MiB per hash: N=2^14, r=8, p=5", async () => {
  const stored = await hashPassword("correct horse battery");
  eq(stored.split("$").slice(0, 4), ["scrypt", "16384", "8", "5"]);
  equal(needsRehash(stored), false);
});

Deno.test("hashes of the earlier parameters still verify and are marked for rehashing", async () => {
  const old = await oldHash("password123");
  equal(await verifyPassword("password123", old), true);
  equal(await verifyPassword("password124", old), false);
  equal(needsRehash(old), true);
  equal(needsRehash("not a hash"), true);
});

Deno.test("no more than HASH_CONCURRENCY hashes run at once; the rest wait their turn", async () => {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, hashesInFlight())), 1);
  try {
    const all = await Promise.all(
      Array.from({ length: HASH_CONCURRENCY * 3 }, (_, i) => hashPassword(`pw-${i}-long-enough`)),
    );
    equal(new Set(all).size, all.length);
  } finally {
    clearInterval(timer);
  }
  ok(peak >= 1 && peak <= HASH_CONCURRENCY, `peak ${peak}`);
  equal(hashesInFlight(), 0);
});
