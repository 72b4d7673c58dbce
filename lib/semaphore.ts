/**
 * A counting semaphore: at most `limit` holders at once, the rest wait in arrival order. Used to
 * bound concurrent password hashes, each of which takes 16 MiB and a thread for tens of
 * milliseconds: a burst of logins must queue, not multiply memory.
 * @module
 */
export class Semaphore {
  #active = 0;
  #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("limit must be 1 or more");
  }

  /** Holders right now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `fn` once a turn is free and gives the turn back however `fn` ends.
   * @example
   * const hashes = new Semaphore(4);
   * const key = await hashes.run(() => derive(password));
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      // The turn passes straight to the next waiter, so `active` never drops below the limit
      // while anyone waits and no late arrival can overtake them.
      if (next) next();
      else this.#active--;
    }
  }
}
