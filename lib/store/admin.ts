/**
 * What an operator does to accounts and the store from the command line (`deno task admin`),
 * without editing KV by hand. Each change goes through the same atomic commits and event log
 * as the server's own, so running servers see it at once (revoked sessions close their sockets
 * with 4001; removed members vanish from their groups).
 * @module
 */
import { AppError } from "../errors.ts";
import { securityEvent } from "../log.ts";
import { listMemberships, removeMember } from "./conversations.ts";
import { keys } from "./keys.ts";
import { eraseUserTraces } from "./accounts.ts";
import { KvBlobStore } from "./blobs.ts";
import { forgetBlocks } from "./blocks.ts";
import { retry } from "./kv.ts";
import { revokeSession, type SessionRecord } from "./sessions.ts";
import { getUser, getUserByName, searchWords, type UserRecord } from "./users.ts";

/** One row of `admin users`. */
export interface UserSummary {
  id: string;
  username: string;
  displayName: string;
  createdAt: number;
  sessions: number;
}

/** Live sessions per user id, by one scan of the sessions (there is no per-user index). */
async function sessionsByUser(kv: Deno.Kv): Promise<Map<string, SessionRecord[]>> {
  const out = new Map<string, SessionRecord[]>();
  const now = Date.now();
  for await (const e of kv.list<SessionRecord>({ prefix: keys.session("").slice(0, 1) })) {
    if (e.value.expiresAt <= now) continue;
    const list = out.get(e.value.userId) ?? [];
    list.push(e.value);
    out.set(e.value.userId, list);
  }
  return out;
}

/**
 * Users in username order; with `search`, those whose username or display name contains it
 * (case-insensitive).
 */
export async function listUsers(
  kv: Deno.Kv,
  opts: { search?: string; limit?: number } = {},
): Promise<UserSummary[]> {
  const q = opts.search?.toLowerCase();
  const limit = opts.limit ?? Infinity;
  const sessions = await sessionsByUser(kv);
  const out: UserSummary[] = [];
  for await (const e of kv.list<string>({ prefix: keys.usersByNamePrefix() })) {
    const user = await getUser(kv, e.value);
    if (!user) continue;
    if (
      q && !user.username.includes(q) && !user.displayName.toLowerCase().includes(q)
    ) continue;
    out.push({
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      createdAt: user.createdAt,
      sessions: sessions.get(user.id)?.length ?? 0,
    });
    if (out.length >= limit) break;
  }
  return out;
}

/** A user by id or username. @throws AppError `not_found`. */
export async function findUser(kv: Deno.Kv, idOrName: string): Promise<UserRecord> {
  const user = (await getUserByName(kv, idOrName)) ?? (await getUser(kv, idOrName));
  if (!user) throw new AppError("not_found", `There is no user "${idOrName}".`);
  return user;
}

/** Revokes every live session of a user (their sockets close with 4001). @returns how many. */
export async function revokeUserSessions(kv: Deno.Kv, userId: string): Promise<number> {
  const sessions = (await sessionsByUser(kv)).get(userId) ?? [];
  for (const s of sessions) await revokeSession(kv, s.id, "admin");
  return sessions.length;
}

/** Replaces a user's password hash (guarded against a concurrent change), then signs them out. */
export async function setPasswordHash(
  kv: Deno.Kv,
  userId: string,
  passwordHash: string,
): Promise<{ revoked: number }> {
  for (;;) {
    const entry = await retry(() => kv.get<UserRecord>(keys.user(userId)));
    if (!entry.value) throw new AppError("not_found", `There is no user "${userId}".`);
    const res = await retry(() =>
      kv.atomic().check(entry).set(keys.user(userId), { ...entry.value!, passwordHash }).commit()
    );
    if (res.ok) break;
  }
  securityEvent("password_changed", { userId, by: "admin" });
  return { revoked: await revokeUserSessions(kv, userId) };
}

/**
 * Deletes an account: signs it out everywhere, takes it out of every conversation (as leaving
 * would, so groups get a new owner when needed), then removes the record and its name indexes
 * in one commit. Messages it sent stay in their conversations under its id.
 */
export async function deleteUser(
  kv: Deno.Kv,
  userId: string,
): Promise<{ revoked: number; conversations: number }> {
  const revoked = await revokeUserSessions(kv, userId);
  const convIds = await listMemberships(kv, userId);
  for (const convId of convIds) await removeMember(kv, convId, userId);
  for (;;) {
    const entry = await retry(() => kv.get<UserRecord>(keys.user(userId)));
    const user = entry.value;
    if (!user) throw new AppError("not_found", `There is no user "${userId}".`);
    const op = kv.atomic().check(entry)
      .delete(keys.user(userId))
      .delete(keys.userByName(user.username))
      .delete(keys.lastSeen(userId));
    for (const word of searchWords(user)) op.delete(keys.userByWord(word, userId));
    // The avatar goes with the record (its chunks at the next sweep), as in self-deletion.
    if (user.avatar) new KvBlobStore(kv).remove(op, user.avatar.blobId);
    const res = await retry(() => op.commit());
    if (res.ok) {
      await forgetBlocks(kv, userId);
      await eraseUserTraces(kv, user);
      break;
    }
  }
  securityEvent("account_deleted", { userId, by: "admin" });
  return { revoked, conversations: convIds.length };
}

/** What `admin stats` prints. */
export interface StoreStats {
  users: number;
  conversations: { direct: number; group: number };
  messages: number;
  sessions: number;
  /** Bytes of the KV file and its write-ahead log; null for a remote or managed KV. */
  kvBytes: number | null;
}

/** Counts by scanning (an operator's command, not a request path). */
export async function storeStats(kv: Deno.Kv, kvPath: string): Promise<StoreStats> {
  const count = async (prefix: Deno.KvKey) => {
    let n = 0;
    for await (const _ of kv.list({ prefix }, { batchSize: 1000 })) n++;
    return n;
  };
  const conversations = { direct: 0, group: 0 };
  for await (
    const e of kv.list<{ kind: "direct" | "group" }>({ prefix: keys.conversation("").slice(0, 1) })
  ) conversations[e.value.kind]++;
  let kvBytes: number | null = null;
  if (kvPath && kvPath !== ":memory:" && !/^https?:\/\//.test(kvPath)) {
    kvBytes = 0;
    for (const suffix of ["", "-wal", "-shm"]) {
      kvBytes += await Deno.stat(kvPath + suffix).then((s) => s.size, () => 0);
    }
  }
  const now = Date.now();
  let sessions = 0;
  for await (const e of kv.list<SessionRecord>({ prefix: keys.session("").slice(0, 1) })) {
    if (e.value.expiresAt > now) sessions++;
  }
  return {
    users: await count(keys.usersPrefix()),
    conversations,
    messages: await count(keys.messagesOf("").slice(0, 1)),
    sessions,
    kvBytes,
  };
}
