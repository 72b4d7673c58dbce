/**
 * Login throttling, kept in KV so it holds across isolates: at most 5 failures per username
 * and 100 per client address in a 15-minute window.
 * @module
 */
import { keys } from "../store/keys.ts";
import { retry } from "../store/kv.ts";

interface Window {
  count: number;
  resetAt: number;
}

export const THROTTLE = { windowMs: 15 * 60 * 1000, perUser: 5, perAddr: 100 } as const;

/** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
export async function loginBlockedFor(kv: Deno.Kv, username: string, addr: string) {
  const now = Date.now();
  const [u, a] = await retry(() =>
    kv.getMany<[Window, Window]>([
      keys.loginFail("user", username),
      keys.loginFail("addr", addr),
    ])
  );
  let wait = 0;
  if (u.value && u.value.resetAt > now && u.value.count >= THROTTLE.perUser) {
    wait = Math.max(wait, u.value.resetAt - now);
  }
  if (a.value && a.value.resetAt > now && a.value.count >= THROTTLE.perAddr) {
    wait = Math.max(wait, a.value.resetAt - now);
  }
  return wait;
}

async function bump(kv: Deno.Kv, key: Deno.KvKey): Promise<void> {
  for (;;) {
    const entry = await retry(() => kv.get<Window>(key));
    const now = Date.now();
    const current = entry.value && entry.value.resetAt > now
      ? entry.value
      : { count: 0, resetAt: now + THROTTLE.windowMs };
    const next = { count: current.count + 1, resetAt: current.resetAt };
    const res = await retry(() =>
      kv.atomic().check(entry).set(key, next, { expireIn: next.resetAt - now }).commit()
    );
    if (res.ok) return;
  }
}

/** Counts a failed login against the username and the address. */
export async function recordLoginFailure(kv: Deno.Kv, username: string, addr: string) {
  await Promise.all([
    bump(kv, keys.loginFail("user", username)),
    bump(kv, keys.loginFail("addr", addr)),
  ]);
}

/** A successful login clears the username's failures (not the address's). */
export async function clearLoginFailures(kv: Deno.Kv, username: string) {
  await retry(() => kv.delete(keys.loginFail("user", username)));
}
