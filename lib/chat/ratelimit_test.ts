import { equal, ok } from "node:assert/strict";
import { withKv } from "../store/testing.ts";
import { RateLimiter, SharedRateLimiter, TokenBucket } from "./ratelimit.ts";

Deno.test("RateLimiter allows a burst, then says how long to wait", () => {
  const rl = new RateLimiter(3, 10);
  const t = 1_000_000;
  equal(rl.take("ann", t), 0);
  equal(rl.take("ann", t), 0);
  equal(rl.take("ann", t), 0);
  equal(rl.take("ann", t), 100, "one token every 100 ms at 10 per second");
  equal(rl.take("bea", t), 0, "each key has its own bucket");
});

Deno.test("RateLimiter refills over time, up to the burst", () => {
  const rl = new RateLimiter(2, 10);
  const t = 1_000_000;
  rl.take("ann", t);
  rl.take("ann", t);
  equal(rl.take("ann", t + 100), 0, "one token back after 100 ms");
  equal(rl.take("ann", t + 100) > 0, true);
  equal(rl.take("ann", t + 60_000), 0);
  equal(rl.take("ann", t + 60_000), 0);
  equal(rl.take("ann", t + 60_000) > 0, true, "never more than the burst");
});

Deno.test("RateLimiter.refund() gives a token back, never above the burst", () => {
  const rl = new RateLimiter(1, 1);
  const t = 1_000_000;
  equal(rl.take("ann", t), 0);
  equal(rl.take("ann", t) > 0, true);
  rl.refund("ann");
  equal(rl.take("ann", t), 0, "the duplicate's token is back");
  rl.refund("ann");
  rl.refund("ann");
  equal(rl.take("ann", t), 0);
  equal(rl.take("ann", t) > 0, true, "two refunds did not make two tokens");
});

Deno.test("TokenBucket takes a burst, then refills at its rate", () => {
  // The bucket starts full at its own Date.now(): read the clock after it, or a busy machine's
  // milliseconds between the two come out of the burst.
  const b = new TokenBucket(2, 1);
  const t = Date.now();
  equal(b.take(t), true);
  equal(b.take(t), true);
  equal(b.take(t), false);
  equal(b.take(t + 1000), true);
  equal(b.take(t + 1000), false);
});

Deno.test("SharedRateLimiter: two isolates' limiters on one KV allow the burst once between them", async () => {
  await withKv(async (kv) => {
    // Two instances stand for two isolates; the refill is too slow to matter here.
    const a = new SharedRateLimiter(kv, "send", 30, 0.01, 10);
    const b = new SharedRateLimiter(kv, "send", 30, 0.01, 10);
    let allowed = 0;
    let refusedWait = 0;
    for (let i = 0; i < 40; i++) {
      for (const limiter of [a, b]) {
        const wait = await limiter.take("ann");
        if (wait === 0) allowed++;
        else refusedWait = wait;
      }
    }
    equal(allowed, 30, "the burst of 30 holds across both, not 30 each");
    ok(refusedWait > 0, "a refusal says how long to wait");
    equal(await a.take("bea"), 0, "each key has its own bucket");
  });
});

Deno.test("SharedRateLimiter answers from its leased block without waiting, and refunds into it", async () => {
  await withKv(async (kv) => {
    const rl = new SharedRateLimiter(kv, "send", 30, 10, 10);
    equal(await rl.take("ann"), 0, "the first take leases a block");
    for (let i = 0; i < 9; i++) equal(rl.take("ann"), 0, "the rest of the block is at hand");
    rl.refund("ann");
    equal(rl.take("ann"), 0, "a refunded token is at hand again");
    const next = rl.take("ann");
    ok(next instanceof Promise, "an empty block asks the shared bucket");
    equal(await next, 0);
  });
});
