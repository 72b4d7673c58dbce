/**
 * Login throttling policy, counted in KV (store/throttle.ts) so it holds across isolates: at
 * most 5 failures per username and 100 per client address in a 15-minute window. Sign-ups are
 * limited per address the same way (`reserveRegistration`).
 *
 * An attempt is counted *before* its password is checked and given back when it succeeds.
 * Checking first and counting after would let many parallel guesses all pass the check before
 * any of them is counted.
 * @module
 */
import {
  blockedFor,
  clear,
  giveBack,
  loginCounter,
  registrationCounter,
  reserve,
} from "../store/throttle.ts";

export const THROTTLE = { windowMs: 15 * 60 * 1000, perUser: 5, perAddr: 100 } as const;

const loginCounters = (username: string, addr: string) => [
  loginCounter("user", username, THROTTLE.perUser, THROTTLE.windowMs),
  loginCounter("addr", addr, THROTTLE.perAddr, THROTTLE.windowMs),
];

/** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
export async function loginBlockedFor(kv: Deno.Kv, username: string, addr: string) {
  return await blockedFor(kv, loginCounters(username, addr));
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
  return await reserve(kv, loginCounters(username, addr));
}

/**
 * A successful login clears the username's failures and gives the address back the attempt
 * `reserveLoginAttempt` counted (earlier failures from that address still count).
 */
export async function clearLoginFailures(kv: Deno.Kv, username: string, addr: string) {
  const [user, address] = loginCounters(username, addr);
  await clear(kv, user.key);
  await giveBack(kv, address.key);
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
  return await reserve(kv, [registrationCounter(addr, limit, REGISTRATION_WINDOW_MS)]);
}

/** The key an address is counted under: parsed by ipaddr.js in lib/net/address.ts. */
export { addressKey } from "../net/address.ts";
