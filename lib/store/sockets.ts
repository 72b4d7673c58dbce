/**
 * Open sockets per user and per address, across isolates, as KV holds them: each isolate keeps
 * one expiring count per subject it holds sockets for, refreshed while they live (like
 * presence), so an isolate that dies stops counting once its entries expire.
 * @module
 */
import { keys } from "./keys.ts";
import { listAll, retry, writeBatcher } from "./kv.ts";

export type SocketScope = "user" | "addr";

/** Entries written per atomic commit on refresh (well under KV's mutation limit). */
const PER_COMMIT = 200;

/** Writes one isolate's count for a subject (0 deletes it). */
export async function writeSocketCount(
  kv: Deno.Kv,
  scope: SocketScope,
  subject: string,
  isolateId: string,
  count: number,
  ttlMs: number,
): Promise<void> {
  const key = keys.sockets(scope, subject, isolateId);
  // Group-committed with the other plain writes: a crowd connecting at once shares commits.
  const writes = writeBatcher(kv);
  await (count > 0 ? writes.set(key, count, { expireIn: ttlMs }) : writes.delete(key));
}

/** The sockets other isolates hold for a subject, by their live entries. */
export async function socketsElsewhere(
  kv: Deno.Kv,
  scope: SocketScope,
  subject: string,
  isolateId: string,
): Promise<number> {
  const entries = await listAll<number>(kv, { prefix: keys.socketsOf(scope, subject) });
  let n = 0;
  for (const e of entries) if (e.key[3] !== isolateId && typeof e.value === "number") n += e.value;
  return n;
}

/** Rewrites many of one isolate's counts with a fresh expiry (batched). */
export async function refreshSocketCounts(
  kv: Deno.Kv,
  isolateId: string,
  counts: { scope: SocketScope; subject: string; count: number }[],
  ttlMs: number,
): Promise<void> {
  for (let i = 0; i < counts.length; i += PER_COMMIT) {
    let op = kv.atomic();
    for (const { scope, subject, count } of counts.slice(i, i + PER_COMMIT)) {
      const key = keys.sockets(scope, subject, isolateId);
      op = count > 0 ? op.set(key, count, { expireIn: ttlMs }) : op.delete(key);
    }
    await retry(() => op.commit());
  }
}
