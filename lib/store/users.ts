/**
 * Users and their unique, case-insensitive usernames.
 * @module
 */
import { AppError } from "../errors.ts";
import type { User } from "../protocol.ts";
import { keys } from "./keys.ts";
import { getMany, listAll, retry } from "./kv.ts";
import type { UserRecord } from "./records.ts";

export type { UserRecord } from "./records.ts";

/** The public face of a user record. */
export function publicUser(record: UserRecord): User {
  return {
    id: record.id,
    username: record.username,
    displayName: record.displayName,
    avatarUrl: record.avatar ? avatarPath(record.id, record.avatar.hash) : null,
  };
}

/** Where a user's avatar is served; the hash makes each picture its own, immutable URL. */
export function avatarPath(userId: string, hash: string): string {
  return `/api/users/${encodeURIComponent(userId)}/avatar?v=${hash}`;
}

/**
 * Creates a user; exactly one of many concurrent registrations of one username wins, because
 * the username index is written in the same atomic commit, guarded by `check(null)`.
 * @throws AppError `username_taken`
 */
export async function createUser(
  kv: Deno.Kv,
  input: { username: string; displayName?: string; passwordHash: string; id?: string },
): Promise<UserRecord> {
  const username = input.username.toLowerCase();
  const record: UserRecord = {
    id: input.id ?? crypto.randomUUID(),
    username,
    displayName: input.displayName?.trim() || username,
    passwordHash: input.passwordHash,
    createdAt: Date.now(),
  };
  const res = await retry(() => {
    const op = kv.atomic()
      .check({ key: keys.userByName(username), versionstamp: null })
      .check({ key: keys.user(record.id), versionstamp: null })
      .set(keys.user(record.id), record)
      .set(keys.userByName(username), record.id);
    for (const word of searchWords(record)) op.set(keys.userByWord(word, record.id), record.id);
    return op.commit();
  });
  if (!res.ok) {
    throw new AppError("username_taken", "That username is already taken.", { field: "username" });
  }
  return record;
}

/**
 * Replaces a user's password hash if it is still `expected` (a password change meanwhile
 * wins). Returns whether it was replaced.
 */
export async function replacePasswordHash(
  kv: Deno.Kv,
  userId: string,
  expected: string,
  passwordHash: string,
): Promise<boolean> {
  const entry = await retry(() => kv.get<UserRecord>(keys.user(userId)));
  if (!entry.value || entry.value.passwordHash !== expected) return false;
  const res = await retry(() =>
    kv.atomic().check(entry).set(keys.user(userId), { ...entry.value!, passwordHash }).commit()
  );
  return res.ok;
}

/** Looks a user up by id. */
export async function getUser(kv: Deno.Kv, userId: string): Promise<UserRecord | null> {
  return (await retry(() => kv.get<UserRecord>(keys.user(userId)))).value;
}

/** Looks many users up by id; missing ones are left out. */
export async function getUsers(kv: Deno.Kv, userIds: string[]): Promise<UserRecord[]> {
  const entries = await getMany<UserRecord>(kv, userIds.map(keys.user));
  return entries.flatMap((e) => (e.value ? [e.value] : []));
}

/** Looks a user up by username, case-insensitively. */
export async function getUserByName(kv: Deno.Kv, username: string): Promise<UserRecord | null> {
  const id = (await retry(() => kv.get<string>(keys.userByName(username.toLowerCase())))).value;
  return id ? await getUser(kv, id) : null;
}

/** Lower case without accents, so "Émile" and "emile" index and search alike. */
export function fold(s: string): string {
  return s.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The words of a text, folded: "Grace B. Hopper-Smith" → grace, b, hopper, smith. */
export function wordsOf(s: string): string[] {
  return fold(s).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** The index words of a user: each word of the display name and the username, and the whole
 * username (so "grace_h" still finds "grace_hopper"). */
export function searchWords(u: { username: string; displayName: string }): string[] {
  return [...new Set([fold(u.username), ...wordsOf(u.username), ...wordsOf(u.displayName)])];
}

/**
 * Users any of whose display-name or username words starts with the query (case- and
 * accent-insensitive), at most `limit`. A query of several words ("grace hop") matches users
 * with a word starting with each. The KV read is one range scan on the query's longest word,
 * bounded by a small multiple of `limit`, so it stays O(results) however many users there are.
 */
export async function searchUsers(kv: Deno.Kv, query: string, limit: number): Promise<User[]> {
  const whole = fold(query.trim());
  const words = wordsOf(query);
  // A query like "grace_h" is a username prefix; a plain word is itself.
  const lead = /^[\p{L}\p{N}_]+$/u.test(whole) && whole.includes("_")
    ? whole
    : [...words].sort((a, b) => b.length - a.length)[0];
  if (!lead) return [];
  const base = keys.usersByWordPrefix();
  const entries = await listAll<string>(kv, {
    start: [...base, lead],
    end: [...base, lead + "\uffff"],
  }, { limit: limit * 4 });
  const ids = [...new Set(entries.map((e) => e.value))];
  const users = await getUsers(kv, ids);
  return users
    .filter((u) => {
      if (lead === whole) return true;
      const own = searchWords(u);
      return words.every((w) => own.some((o) => o.startsWith(w)));
    })
    .slice(0, limit)
    .map(publicUser)
    .sort((a, b) => a.username.localeCompare(b.username));
}

/**
 * Writes the word index for users created before it existed; the schema step from version 1
 * (store/schema.ts) runs it. Idempotent, and
 * skipped once done (a marker key). Each user's entries go in one atomic commit with a check
 * on the user record, so a user deleted meanwhile gets no stray entries.
 */
export async function buildUserWordIndex(kv: Deno.Kv): Promise<number> {
  if ((await retry(() => kv.get(keys.userWordsBuilt()))).value) return 0;
  let built = 0;
  for await (const entry of kv.list<UserRecord>({ prefix: keys.usersPrefix() })) {
    const u = entry.value;
    await retry(() => {
      const op = kv.atomic().check({ key: entry.key, versionstamp: entry.versionstamp });
      for (const word of searchWords(u)) op.set(keys.userByWord(word, u.id), u.id);
      return op.commit();
    });
    built++;
  }
  await retry(() => kv.set(keys.userWordsBuilt(), true));
  return built;
}

/**
 * Changes a user's record by `change` (a display name, an avatar, a password hash), keeping
 * the search word index in step in the same commit; retried when a concurrent change lands
 * first. Returns the new record and the old one.
 * @throws AppError `not_found` when the user is gone.
 */
export async function updateUser(
  kv: Deno.Kv,
  userId: string,
  change: (u: UserRecord) => UserRecord,
): Promise<{ before: UserRecord; after: UserRecord }> {
  for (;;) {
    const entry = await retry(() => kv.get<UserRecord>(keys.user(userId)));
    if (!entry.value) throw new AppError("not_found", "That account no longer exists.");
    const before = entry.value;
    const after = change(before);
    const op = kv.atomic().check(entry).set(keys.user(userId), after);
    const oldWords = new Set(searchWords(before));
    const newWords = new Set(searchWords(after));
    for (const w of oldWords) if (!newWords.has(w)) op.delete(keys.userByWord(w, userId));
    for (const w of newWords) if (!oldWords.has(w)) op.set(keys.userByWord(w, userId), userId);
    if ((await retry(() => op.commit())).ok) return { before, after };
  }
}

/**
 * Deletes a user's record and name indexes in one commit, guarded by the record read, so the
 * username is free for the next sign-up. Returns the deleted record, or null when gone.
 */
export async function deleteUserRecord(kv: Deno.Kv, userId: string): Promise<UserRecord | null> {
  for (;;) {
    const entry = await retry(() => kv.get<UserRecord>(keys.user(userId)));
    const user = entry.value;
    if (!user) return null;
    const op = kv.atomic().check(entry)
      .delete(keys.user(userId))
      .delete(keys.userByName(user.username));
    for (const word of searchWords(user)) op.delete(keys.userByWord(word, userId));
    if ((await retry(() => op.commit())).ok) return user;
  }
}
