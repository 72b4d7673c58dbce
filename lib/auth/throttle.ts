/**
 * Login throttling, kept in KV so it holds across isolates: at most 5 failures per username
 * and 100 per client address in a 15-minute window. Sign-ups are limited per address the same
 * way (`reserveRegistration`).
 *
 * An attempt is counted *before* its password is checked and given back when it succeeds.
 * Checking first and counting after would let many parallel guesses all pass the check before
 * any of them is counted.
 * @module
 */
import { keys } from "../store/keys.ts";
import { retry } from "../store/kv.ts";

interface Window {
  count: number;
  resetAt: number;
}

export const THROTTLE = { windowMs: 15 * 60 * 1000, perUser: 5, perAddr: 100 } as const;

function live(entry: Deno.KvEntryMaybe<Window>, now: number): Window | null {
  return entry.value && entry.value.resetAt > now ? entry.value : null;
}

/** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
export async function loginBlockedFor(kv: Deno.Kv, username: string, addr: string) {
  const now = Date.now();
  const [u, a] = await retry(() =>
    kv.getMany<[Window, Window]>([
      keys.loginFail("user", username),
      keys.loginFail("addr", addr),
    ])
  );
  return waitFor(live(u, now), live(a, now), now);
}

function waitFor(u: Window | null, a: Window | null, now: number): number {
  let wait = 0;
  if (u && u.count >= THROTTLE.perUser) wait = Math.max(wait, u.resetAt - now);
  if (a && a.count >= THROTTLE.perAddr) wait = Math.max(wait, a.resetAt - now);
  return wait;
}

/**
 * Counts a login attempt against the username and the address, atomically with the check.
 * Returns the milliseconds to wait (and counts nothing) when either limit is already reached,
 * else 0. Call `clearLoginFailures` when the attempt succeeds.
 */
export async function reserveLoginAttempt(
  kv: Deno.Kv,
  username: string,
  addr: string,
): Promise<number> {
  const userKey = keys.loginFail("user", username);
  const addrKey = keys.loginFail("addr", addr);
  for (;;) {
    const [u, a] = await retry(() => kv.getMany<[Window, Window]>([userKey, addrKey]));
    const now = Date.now();
    const wait = waitFor(live(u, now), live(a, now), now);
    if (wait > 0) return wait;
    const next = (entry: Deno.KvEntryMaybe<Window>): Window => {
      const current = live(entry, now) ?? { count: 0, resetAt: now + THROTTLE.windowMs };
      return { count: current.count + 1, resetAt: current.resetAt };
    };
    const nu = next(u), na = next(a);
    const res = await retry(() =>
      kv.atomic().check(u).check(a)
        .set(userKey, nu, { expireIn: nu.resetAt - now })
        .set(addrKey, na, { expireIn: na.resetAt - now })
        .commit()
    );
    if (res.ok) return 0;
  }
}

/**
 * A successful login clears the username's failures and gives the address back the attempt
 * `reserveLoginAttempt` counted (earlier failures from that address still count).
 */
export async function clearLoginFailures(kv: Deno.Kv, username: string, addr: string) {
  await retry(() => kv.delete(keys.loginFail("user", username)));
  const addrKey = keys.loginFail("addr", addr);
  for (;;) {
    const entry = await retry(() => kv.get<Window>(addrKey));
    const now = Date.now();
    const current = live(entry, now);
    if (!current) return;
    const op = kv.atomic().check(entry);
    if (current.count <= 1) op.delete(addrKey);
    else {op.set(addrKey, { ...current, count: current.count - 1 }, {
        expireIn: current.resetAt - now,
      });}
    if ((await retry(() => op.commit())).ok) return;
  }
}

/** Sign-ups are counted per client address over an hour. */
export const REGISTRATION_WINDOW_MS = 60 * 60 * 1000;

/**
 * Counts a sign-up from `addr`, atomically with the check, before any password is hashed.
 * Returns the milliseconds until the address may sign up again (counting nothing) when it has
 * reached `limit` in the window, else 0. A `limit` of 0 turns the check off.
 */
export async function reserveRegistration(
  kv: Deno.Kv,
  addr: string,
  limit: number,
): Promise<number> {
  if (limit <= 0) return 0;
  const key = keys.registrations(addr);
  for (;;) {
    const entry = await retry(() => kv.get<Window>(key));
    const now = Date.now();
    const current = live(entry, now) ?? { count: 0, resetAt: now + REGISTRATION_WINDOW_MS };
    if (current.count >= limit) return current.resetAt - now;
    const res = await retry(() =>
      kv.atomic().check(entry)
        .set(key, { count: current.count + 1, resetAt: current.resetAt }, {
          expireIn: current.resetAt - now,
        })
        .commit()
    );
    if (res.ok) return 0;
  }
}

/** The key an address is counted under: parsed by ipaddr.js in lib/net/address.ts. */
export { addressKey } from "../net/address.ts";
