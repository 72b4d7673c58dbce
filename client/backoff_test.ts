import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, backoffDelay } from "./backoff.ts";

Deno.test("backoff doubles per failure between half and all of its ceiling", () => {
  eq([0, 1, 2, 3].map((n) => backoffDelay(n, () => 0)), [250, 500, 1000, 2000]);
  eq([0, 1, 2, 3].map((n) => backoffDelay(n, () => 1)), [500, 1000, 2000, 4000]);
  eq(backoffDelay(0, () => 0.5), Math.round(BACKOFF_BASE_MS * 0.75));
});

Deno.test("backoff never waits longer than the cap, however many failures", () => {
  for (const n of [5, 6, 10, 50, 1000]) {
    ok(backoffDelay(n, () => 1) <= BACKOFF_MAX_MS);
    ok(backoffDelay(n, () => 0) >= BACKOFF_MAX_MS / 2);
  }
  eq(backoffDelay(1000, () => 1), BACKOFF_MAX_MS);
});

Deno.test("backoff jitter spreads clients that failed together", () => {
  let i = 0;
  const randoms = [0.1, 0.4, 0.7, 0.95];
  const delays = randoms.map(() => backoffDelay(4, () => randoms[i++]));
  eq(new Set(delays).size, delays.length);
});
