import { equal } from "node:assert/strict";
import { RateLimiter, TokenBucket } from "./ratelimit.ts";

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
  const t = Date.now();
  const b = new TokenBucket(2, 1);
  equal(b.take(t), true);
  equal(b.take(t), true);
  equal(b.take(t), false);
  equal(b.take(t + 1000), true);
  equal(b.take(t + 1000), false);
});
