/**
 * What an account leaves in KV besides its record, and erasing it when the account is deleted:
 * presence, login throttles, rate-limit buckets, socket counts, upload quotas, the session
 * index. Kept in the store layer, beside the keys, so a new per-user key is one line here.
 * @module
 */
import { keys } from "./keys.ts";
import { retry } from "./kv.ts";

/**
 * Deletes every per-user key of a deleted account. Rate-limit buckets are keyed by limit name
 * first, so they are found by one scan of the (expiring, hence short) bucket list.
 */
export async function eraseUserTraces(
  kv: Deno.Kv,
  user: { id: string; username: string },
): Promise<void> {
  const doomed: Deno.KvKey[] = [
    keys.lastSeen(user.id),
    keys.loginFail("user", user.username),
    keys.uploadWindow(user.id),
  ];
  const prefixes: Deno.KvKey[] = [
    keys.onlineOf(user.id),
    keys.socketsOf("user", user.id),
    keys.userSessionsOf(user.id),
    keys.uploadUsed(user.id, 0).slice(0, 2),
  ];
  for (const prefix of prefixes) {
    for await (const e of kv.list({ prefix })) doomed.push(e.key);
  }
  for await (const e of kv.list({ prefix: keys.limit("", "").slice(0, 1) })) {
    if (e.key[2] === user.id) doomed.push(e.key);
  }
  for (let i = 0; i < doomed.length; i += 500) {
    const op = kv.atomic();
    for (const k of doomed.slice(i, i + 500)) op.delete(k);
    await retry(() => op.commit());
  }
}
