/**
 * Token buckets shared by every isolate, as KV holds them: one record per limit and subject,
 * taken from in blocks by an atomic check-and-set (see `SharedRateLimiter` in
 * chat/ratelimit.ts), so a limit holds for the whole server without a commit per request.
 * @module
 */
import { keys } from "./keys.ts";
import { retry } from "./kv.ts";

/** A bucket as stored: its tokens when last taken from, and when that was (ms). */
export interface BucketRecord {
  tokens: number;
  at: number;
}

/**
 * Takes up to `want` whole tokens from a shared bucket (a burst of `capacity`, refilled at
 * `perSecond`). Returns how many were granted and, when none, the milliseconds until one is.
 * A refusal writes nothing.
 */
export async function takeTokens(
  kv: Deno.Kv,
  name: string,
  subject: string,
  capacity: number,
  perSecond: number,
  want: number,
): Promise<{ granted: number; waitMs: number }> {
  const key = keys.limit(name, subject);
  for (;;) {
    const cur = await retry(() => kv.get<BucketRecord>(key));
    const now = Date.now();
    const b = cur.value;
    // A clock behind the last writer's (another machine) refills nothing rather than less.
    const tokens = b
      ? Math.min(capacity, b.tokens + (Math.max(0, now - b.at) / 1000) * perSecond)
      : capacity;
    const granted = Math.min(want, Math.floor(tokens));
    if (granted < 1) return { granted: 0, waitMs: Math.ceil(((1 - tokens) / perSecond) * 1000) };
    const left = tokens - granted;
    // Once it would be full again, the record says nothing a missing one does not.
    const expireIn = Math.ceil(((capacity - left) / perSecond) * 1000) + 1000;
    const res = await retry(() =>
      kv.atomic().check(cur).set(key, { tokens: left, at: now } satisfies BucketRecord, {
        expireIn,
      }).commit()
    );
    if (res.ok) return { granted, waitMs: 0 };
  }
}
