/**
 * Who is online, across isolates, as KV holds it: each isolate keeps an expiring key per user
 * it holds a live connection for, refreshed while the connection lives; a user is online while
 * any such key exists. `lastSeen` is written when the last one goes.
 * @module
 */
import { keys } from "./keys.ts";
import { listAll, retry, writeBatcher } from "./kv.ts";
import type { OnlineRecord } from "./records.ts";

/** Users written per atomic commit (well under KV's limit of mutations per commit). */
const PER_COMMIT = 200;

/** What `lookupPresence` tells of one user. */
export interface PresenceState {
  online: boolean;
  lastSeen: number | null;
}

/** Marks users online from one isolate for `ttlMs` (batched; also used to refresh). */
export async function markOnline(
  kv: Deno.Kv,
  isolateId: string,
  userIds: string[],
  ttlMs: number,
): Promise<void> {
  const value: OnlineRecord = { since: Date.now() };
  // Group-committed with the other plain writes: a crowd connecting at once shares commits.
  const writes = writeBatcher(kv);
  await Promise.all(
    userIds.map((u) => writes.set(keys.online(u, isolateId), value, { expireIn: ttlMs })),
  );
}

/**
 * Marks a user gone from one isolate. Returns their `lastSeen` when no other isolate still
 * holds them (they are offline now), or null while they are online elsewhere.
 */
export async function markOffline(
  kv: Deno.Kv,
  isolateId: string,
  userId: string,
): Promise<number | null> {
  await retry(() => kv.delete(keys.online(userId, isolateId)));
  const elsewhere = await listAll(kv, { prefix: keys.onlineOf(userId) }, { limit: 1 });
  if (elsewhere.length > 0) return null;
  const now = Date.now();
  await retry(() => kv.set(keys.lastSeen(userId), now));
  return now;
}

/** Online state and last-seen time of many users. */
export async function lookupPresence(
  kv: Deno.Kv,
  userIds: string[],
): Promise<Map<string, PresenceState>> {
  const out = new Map<string, PresenceState>();
  await Promise.all(userIds.map(async (u) => {
    const [online, seen] = await Promise.all([
      listAll(kv, { prefix: keys.onlineOf(u) }, { limit: 1 }),
      retry(() => kv.get<number>(keys.lastSeen(u))),
    ]);
    out.set(u, { online: online.length > 0, lastSeen: online.length > 0 ? null : seen.value });
  }));
  return out;
}

/** Removes one isolate's keys for users (on shutdown) and notes when they were last seen. */
export async function forgetOnline(
  kv: Deno.Kv,
  isolateId: string,
  userIds: string[],
): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < userIds.length; i += PER_COMMIT) {
    let op = kv.atomic();
    for (const u of userIds.slice(i, i + PER_COMMIT)) {
      op = op.delete(keys.online(u, isolateId)).set(keys.lastSeen(u), now);
    }
    await retry(() => op.commit());
  }
}
