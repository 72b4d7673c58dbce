import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { withKv } from "./testing.ts";
import { keys } from "./keys.ts";
import {
  blockedFor,
  clear,
  type Counter,
  giveBack,
  loginCounter,
  registrationCounter,
  reserve,
} from "./throttle.ts";

const HOUR = 60 * 60 * 1000;

Deno.test("counters live under the keys keys.ts lists", () => {
  eq(loginCounter("user", "alice", 5, HOUR).key, keys.loginFail("user", "alice"));
  eq(loginCounter("addr", "10.0.0.1", 5, HOUR).key, keys.loginFail("addr", "10.0.0.1"));
  eq(registrationCounter("10.0.0.1", 3, HOUR).key, keys.registrations("10.0.0.1"));
});

Deno.test("reserve counts on every counter until one is full, then counts nothing", async () => {
  await withKv(async (kv) => {
    const small: Counter = { key: ["t", "small"], limit: 2, windowMs: HOUR };
    const big: Counter = { key: ["t", "big"], limit: 10, windowMs: HOUR };
    equal(await reserve(kv, [small, big]), 0);
    equal(await reserve(kv, [small, big]), 0);
    equal(await blockedFor(kv, [big]), 0, "the big counter alone is not blocked");
    const wait = await reserve(kv, [small, big]);
    ok(wait > 0 && wait <= HOUR, `waits the rest of the window (${wait} ms)`);
    equal((await kv.get<{ count: number }>(big.key)).value?.count, 2, "a refusal counts nothing");
    ok(await blockedFor(kv, [small, big]) > 0);
  });
});

Deno.test("parallel reservations never pass the limit together", async () => {
  await withKv(async (kv) => {
    const c: Counter = { key: ["t", "race"], limit: 5, windowMs: HOUR };
    const waits = await Promise.all(Array.from({ length: 20 }, () => reserve(kv, [c])));
    equal(waits.filter((w) => w === 0).length, 5);
    equal((await kv.get<{ count: number }>(c.key)).value?.count, 5);
  });
});

Deno.test("giveBack returns one attempt, and the last one removes the window", async () => {
  await withKv(async (kv) => {
    const c: Counter = { key: ["t", "back"], limit: 2, windowMs: HOUR };
    await reserve(kv, [c]);
    await reserve(kv, [c]);
    ok(await blockedFor(kv, [c]) > 0);
    await giveBack(kv, c.key);
    equal(await blockedFor(kv, [c]), 0);
    equal((await kv.get<{ count: number }>(c.key)).value?.count, 1);
    await giveBack(kv, c.key);
    equal((await kv.get(c.key)).value, null);
    await giveBack(kv, c.key); // nothing to give back: no error, nothing written
    equal((await kv.get(c.key)).value, null);
  });
});

Deno.test("clear forgets a counter; a window that has run out counts from zero again", async () => {
  await withKv(async (kv) => {
    const c: Counter = { key: ["t", "clear"], limit: 1, windowMs: HOUR };
    await reserve(kv, [c]);
    ok(await blockedFor(kv, [c]) > 0);
    await clear(kv, c.key);
    equal(await reserve(kv, [c]), 0);

    const brief: Counter = { key: ["t", "brief"], limit: 1, windowMs: 20 };
    equal(await reserve(kv, [brief]), 0);
    await new Promise((r) => setTimeout(r, 40));
    equal(await blockedFor(kv, [brief]), 0, "the window is over");
    equal(await reserve(kv, [brief]), 0);
  });
});
