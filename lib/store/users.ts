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
  return { id: record.id, username: record.username, displayName: record.displayName };
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
  const res = await retry(() =>
    kv.atomic()
      .check({ key: keys.userByName(username), versionstamp: null })
      .check({ key: keys.user(record.id), versionstamp: null })
      .set(keys.user(record.id), record)
      .set(keys.userByName(username), record.id)
      .set(keys.userByDisplay(record.displayName.toLowerCase(), record.id), record.id)
      .commit()
  );
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

/** Users whose username or display name starts with `prefix` (case-insensitive), at most `limit`. */
export async function searchUsers(kv: Deno.Kv, prefix: string, limit: number): Promise<User[]> {
  const q = prefix.toLowerCase();
  const range = (base: readonly string[]) => ({
    start: [...base, q],
    end: [...base, q + "\uffff"],
  });
  const [byName, byDisplay] = await Promise.all([
    listAll<string>(kv, range(keys.usersByNamePrefix()), { limit }),
    listAll<string>(kv, range(keys.usersByDisplayPrefix()), { limit }),
  ]);
  const ids = [...new Set([...byName, ...byDisplay].map((e) => e.value))].slice(0, limit);
  const users = await getUsers(kv, ids);
  return users.map(publicUser).sort((a, b) => a.username.localeCompare(b.username));
}
