/**
 * Removals from conversations applied on this isolate lately. A connect reads the user's
 * memberships from KV; a removal applied while that read is in flight is not in what it gets
 * back, and must not be undone by subscribing the user anyway. Only connects in progress need
 * these, and a connect takes well under a minute.
 * @module
 */

/** Kept for this long, and at most `REMOVALS_KEPT` of them. */
const REMOVALS_FOR_MS = 60_000;
const REMOVALS_KEPT = 200_000;

export class RecentRemovals {
  /** userId + "\0" + convId → when the removal was applied here (oldest first). */
  #at = new Map<string, number>();

  /** A removal was applied now. */
  note(userId: string, convId: string, now = Date.now()): void {
    const key = userId + "\u0000" + convId;
    this.#at.delete(key); // re-inserted last, keeping the map ordered by time
    this.#at.set(key, now);
    for (const [k, at] of this.#at) {
      if (now - at > REMOVALS_FOR_MS || this.#at.size > REMOVALS_KEPT) this.#at.delete(k);
      else break;
    }
  }

  /** The user was added back: an earlier removal no longer holds. */
  clear(userId: string, convId: string): void {
    this.#at.delete(userId + "\u0000" + convId);
  }

  /** Whether `userId` was removed from `convId` at or after `since` (and not added back). */
  since(userId: string, convId: string, since: number): boolean {
    return (this.#at.get(userId + "\u0000" + convId) ?? -1) >= since;
  }
}
