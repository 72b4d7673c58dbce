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
export class RateLimiter {
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
