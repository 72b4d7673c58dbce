import { takeTokens } from "../store/limits.ts";

/** What the send path and the placement check need of a limit. */
export interface Limiter {
  /** Takes a token; 0 when allowed, else the milliseconds until one is available. A number
   * when it could answer at once, a promise when it had to ask the shared store. */
  take(key: string): number | Promise<number>;
  /** Gives a token back (it was not used after all). */
  refund(key: string): void;
}

/** One token bucket: a burst of `capacity`, refilled at `perSecond`. */
export class TokenBucket {
  #tokens: number;
  #at = Date.now();

  constructor(private capacity: number, private perSecond: number) {
    this.#tokens = capacity;
  }

  /** Takes a token; false when none is left. */
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(
      this.capacity,
      this.#tokens + ((now - this.#at) / 1000) * this.perSecond,
    );
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * Token buckets per key (here: per user, per isolate, which the contract accepts): a burst of
 * `capacity`, refilled at `perSecond`.
 * @module
 */
export class RateLimiter implements Limiter {
  #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private capacity: number, private perSecond: number) {}

  /** Takes a token; returns 0 when allowed, else the milliseconds until one is available. */
  take(key: string, now = Date.now()): number {
    const b = this.#refill(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.perSecond) * 1000);
  }

  /** Gives a token back (a resend turned out to be a duplicate). */
  refund(key: string): void {
    const b = this.#buckets.get(key);
    if (b) b.tokens = Math.min(this.capacity, b.tokens + 1);
  }

  #refill(key: string, now: number) {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size > 100_000) this.#sweep(now);
      this.#buckets.set(key, b = { tokens: this.capacity, at: now });
      return b;
    }
    b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    return b;
  }

  #sweep(now: number) {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.capacity) {
        this.#buckets.delete(k);
      }
    }
  }
}

/** Leased tokens not spent within this long are dropped (the shared bucket refilled anyway). */
const LEASE_MS = 10_000;

/**
 * A limit that holds for the whole server, not per isolate: the bucket lives in KV
 * (store/limits.ts) and an isolate takes tokens from it in blocks of `block`, by one atomic
 * commit per block, then spends them locally. Every token spent came out of the shared bucket,
 * so over any stretch of time the server allows at most the burst plus the refill; what a
 * block changes is only where the tokens sit (up to one block per isolate and subject waits
 * unspent). A refusal is remembered until a token could be there, so a client hammering past
 * its limit costs no KV read per attempt.
 */
export class SharedRateLimiter implements Limiter {
  #local = new Map<string, { tokens: number; until: number; retryAt: number }>();
  #pending = new Map<string, Promise<void>>();
  /** Takes waiting for a lease, per key: a lease asks for all of them, so a burst arriving at
   * once is served (or refused) by as few commits as it would be at once. */
  #waiting = new Map<string, number>();

  constructor(
    private kv: Deno.Kv,
    /** Names the limit in KV. */
    private name: string,
    private capacity: number,
    private perSecond: number,
    private block = Math.max(1, Math.min(capacity, Math.ceil(perSecond))),
  ) {}

  take(key: string): number | Promise<number> {
    // While takes wait for a lease, a new one queues behind them (first come, first served).
    if (!this.#waiting.has(key)) {
      const now = this.#spend(key);
      if (now !== null) return now;
    }
    return this.#wait(key);
  }

  /** Spends a local token: 0, or the wait a refusal remembers; null when a lease is needed. */
  #spend(key: string): number | null {
    const l = this.#local.get(key);
    const now = Date.now();
    if (l && now < l.until) {
      if (l.tokens >= 1) {
        l.tokens -= 1;
        return 0;
      }
      if (now < l.retryAt) return l.retryAt - now;
    }
    return null;
  }

  async #wait(key: string): Promise<number> {
    this.#waiting.set(key, (this.#waiting.get(key) ?? 0) + 1);
    try {
      for (;;) {
        const inflight = this.#pending.get(key);
        if (!inflight) {
          const answer = this.#spend(key);
          if (answer !== null) return answer;
        }
        await (inflight ?? this.#lease(key));
        // Waiters resume in the order they came, each spending what the lease brought.
        const answer = this.#spend(key);
        if (answer !== null) return answer;
      }
    } finally {
      const n = this.#waiting.get(key)! - 1;
      if (n > 0) this.#waiting.set(key, n);
      else this.#waiting.delete(key);
    }
  }

  refund(key: string): void {
    const l = this.#local.get(key);
    if (l) l.tokens += 1;
  }

  /** Takes a block from the shared bucket; one lease in flight per key, others wait for it. */
  #lease(key: string): Promise<void> {
    const inflight = this.#pending.get(key);
    if (inflight) return inflight;
    const run = (async () => {
      const { granted, waitMs } = await takeTokens(
        this.kv,
        this.name,
        key,
        this.capacity,
        this.perSecond,
        Math.min(this.capacity, Math.max(this.block, this.#waiting.get(key) ?? 0)),
      );
      const now = Date.now();
      const prev = this.#local.get(key);
      const left = prev && now < prev.until ? prev.tokens : 0;
      if (this.#local.size > 100_000) this.#sweep(now);
      this.#local.set(key, {
        tokens: left + granted,
        until: now + LEASE_MS,
        retryAt: granted > 0 ? 0 : now + waitMs,
      });
    })().finally(() => this.#pending.delete(key));
    this.#pending.set(key, run);
    return run;
  }

  #sweep(now: number) {
    for (const [k, l] of this.#local) if (now >= l.until) this.#local.delete(k);
  }
}
