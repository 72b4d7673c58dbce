/**
 * Counting windows in KV, the store side of the login and sign-up throttles (auth/throttle.ts
 * holds the policy: which limits, how long). A window is `{count, resetAt}` under an expiring
 * key, so it holds across isolates and vanishes by itself.
 *
 * A reservation counts *before* the caller does the guarded work and checks the limits in the
 * same atomic commit, so many parallel attempts cannot all pass the check before any of them is
 * counted.
 * @module
 */
import { keys } from "./keys.ts";
import { retry } from "./kv.ts";

interface Window {
  count: number;
  resetAt: number;
}

/** One counter: its key, how many it allows, and the length of a fresh window. */
export interface Counter {
  key: Deno.KvKey;
  limit: number;
  windowMs: number;
}

/** The counter for failed logins under a username or a client address. */
export const loginCounter = (
  scope: "user" | "addr",
  subject: string,
  limit: number,
  windowMs: number,
): Counter => ({ key: keys.loginFail(scope, subject), limit, windowMs });

/** The counter for sign-ups from a client address. */
export const registrationCounter = (addr: string, limit: number, windowMs: number): Counter => ({
  key: keys.registrations(addr),
  limit,
  windowMs,
});

function live(entry: Deno.KvEntryMaybe<Window>, now: number): Window | null {
  return entry.value && entry.value.resetAt > now ? entry.value : null;
}

function waitFor(counters: readonly Counter[], windows: (Window | null)[], now: number): number {
  let wait = 0;
  counters.forEach((c, i) => {
    const w = windows[i];
    if (w && w.count >= c.limit) wait = Math.max(wait, w.resetAt - now);
  });
  return wait;
}

async function read(kv: Deno.Kv, counters: readonly Counter[]) {
  return await retry(() => kv.getMany<Window[]>(counters.map((c) => c.key)));
}

/** Milliseconds until every counter is under its limit again, or 0 when all are now. */
export async function blockedFor(kv: Deno.Kv, counters: readonly Counter[]): Promise<number> {
  const entries = await read(kv, counters);
  const now = Date.now();
  return waitFor(counters, entries.map((e) => live(e, now)), now);
}

/**
 * Counts one attempt on every counter, atomically with the check. Returns the milliseconds to
 * wait (and counts nothing) when any counter is already at its limit, else 0.
 */
export async function reserve(kv: Deno.Kv, counters: readonly Counter[]): Promise<number> {
  for (;;) {
    const entries = await read(kv, counters);
    const now = Date.now();
    const windows = entries.map((e) => live(e, now));
    const wait = waitFor(counters, windows, now);
    if (wait > 0) return wait;
    const op = kv.atomic();
    counters.forEach((c, i) => {
      const current = windows[i] ?? { count: 0, resetAt: now + c.windowMs };
      op.check(entries[i]).set(c.key, { count: current.count + 1, resetAt: current.resetAt }, {
        expireIn: current.resetAt - now,
      });
    });
    if ((await retry(() => op.commit())).ok) return 0;
  }
}

/** Forgets a counter altogether. */
export async function clear(kv: Deno.Kv, key: Deno.KvKey): Promise<void> {
  await retry(() => kv.delete(key));
}

/** Gives one attempt back to a counter (earlier ones still count). */
export async function giveBack(kv: Deno.Kv, key: Deno.KvKey): Promise<void> {
  for (;;) {
    const entry = await retry(() => kv.get<Window>(key));
    const now = Date.now();
    const current = live(entry, now);
    if (!current) return;
    const op = kv.atomic().check(entry);
    if (current.count <= 1) op.delete(key);
    else op.set(key, { ...current, count: current.count - 1 }, { expireIn: current.resetAt - now });
    if ((await retry(() => op.commit())).ok) return;
  }
}
