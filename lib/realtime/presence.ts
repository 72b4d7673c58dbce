/**
 * Who is online, across isolates: each isolate keeps an expiring key per user it holds a live
 * connection for, refreshed while the connection lives; a user is online while any such key
 * exists. `lastSeen` is written when the last one goes.
 * @module
 */
import { keys } from "../store/keys.ts";
import { listAll, retry } from "../store/kv.ts";

export class PresenceStore {
  constructor(
    private kv: Deno.Kv,
    private isolateId: string,
    private ttlMs: number,
  ) {}

  /** Marks users online from this isolate (batched; also used to refresh). */
  async markOnline(userIds: string[]): Promise<void> {
    const since = Date.now();
    for (let i = 0; i < userIds.length; i += 200) {
      let op = this.kv.atomic();
      for (const u of userIds.slice(i, i + 200)) {
        op = op.set(keys.online(u, this.isolateId), { since }, { expireIn: this.ttlMs });
      }
      await retry(() => op.commit());
    }
  }

  /**
   * Marks a user gone from this isolate. Returns their `lastSeen` when no other isolate still
   * holds them (they are offline now), or null while they are online elsewhere.
   */
  async markOffline(userId: string): Promise<number | null> {
    await retry(() => this.kv.delete(keys.online(userId, this.isolateId)));
    const elsewhere = await listAll(this.kv, { prefix: keys.onlineOf(userId) }, { limit: 1 });
    if (elsewhere.length > 0) return null;
    const now = Date.now();
    await retry(() => this.kv.set(keys.lastSeen(userId), now));
    return now;
  }

  /** Online state and last-seen time of many users. */
  async lookup(
    userIds: string[],
  ): Promise<Map<string, { online: boolean; lastSeen: number | null }>> {
    const out = new Map<string, { online: boolean; lastSeen: number | null }>();
    await Promise.all(userIds.map(async (u) => {
      const [online, seen] = await Promise.all([
        listAll(this.kv, { prefix: keys.onlineOf(u) }, { limit: 1 }),
        retry(() => this.kv.get<number>(keys.lastSeen(u))),
      ]);
      out.set(u, { online: online.length > 0, lastSeen: online.length > 0 ? null : seen.value });
    }));
    return out;
  }

  /** Removes this isolate's keys for users (on shutdown), without touching lastSeen races. */
  async forget(userIds: string[]): Promise<void> {
    const now = Date.now();
    for (let i = 0; i < userIds.length; i += 200) {
      let op = this.kv.atomic();
      for (const u of userIds.slice(i, i + 200)) {
        op = op.delete(keys.online(u, this.isolateId)).set(keys.lastSeen(u), now);
      }
      await retry(() => op.commit());
    }
  }
}
