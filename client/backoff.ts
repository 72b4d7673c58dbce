/**
 * How long the browser waits before each reconnect attempt. Exponential so a server that is
 * down is not hammered, capped so a user who comes back is reconnected soon, and jittered so
 * thousands of clients dropped by one restart do not all return in the same instant.
 * Browser compatible, no side effects.
 * @module
 */

/** The delay before the first retry's ceiling; doubled each failure. */
export const BACKOFF_BASE_MS = 500;
/** The longest wait between attempts (also the slow poll while the browser reports offline). */
export const BACKOFF_MAX_MS = 15_000;

/** The delay before reconnect attempt `n` (0-based): exponential, capped, with jitter in the
 * upper half of the ceiling. `random` is injectable for tests. */
export function backoffDelay(n: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** n);
  return Math.round(ceiling / 2 + random() * ceiling / 2);
}
