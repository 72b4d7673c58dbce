/**
 * Attachment records, the index of uploads no message refers to yet, and upload quotas.
 * The bytes themselves live in the blob store (`blobs.ts`).
 * @module
 */
import { keys } from "./keys.ts";
import { listAll, retry } from "./kv.ts";

/** A stored upload. `unsentDue` is the time it is deleted unless a message claims it first. */
export interface AttachmentRecord {
  id: string;
  conversationId: string;
  uploaderId: string;
  name: string;
  size: number;
  /** The type served and shown (see `Attachment.type` in protocol.ts). */
  type: string;
  sha256: string;
  width: number | null;
  height: number | null;
  blobId: string;
  /** A scaled-down copy for images over the preview size; null means "the original will do". */
  preview: { blobId: string; type: string; width: number; height: number } | null;
  createdAt: number;
  /** When the unreferenced upload goes; null once a message holds it. */
  unsentDue: number | null;
  /** The seq of the message that holds it. */
  messageSeq: number | null;
}

/** How much a user uploaded in the current quota window. */
export interface QuotaRecord {
  start: number;
  used: number;
}

export async function getAttachment(
  kv: Deno.Kv,
  id: string,
): Promise<Deno.KvEntryMaybe<AttachmentRecord>> {
  return await retry(() => kv.get<AttachmentRecord>(keys.attachment(id)));
}

/** Adds a new, unreferenced attachment to `op`, to be deleted at `unsentDue` unless claimed. */
export function createAttachment(op: Deno.AtomicOperation, rec: AttachmentRecord) {
  if (rec.unsentDue === null) throw new Error("a new attachment is unsent");
  return op
    .check({ key: keys.attachment(rec.id), versionstamp: null })
    .set(keys.attachment(rec.id), rec)
    .set(keys.attachmentUnsent(rec.unsentDue, rec.id), true);
}

/**
 * Adds to `op` the claim of an attachment by message `seq`: the commit fails if anyone else
 * changed the record since `entry` was read (another message claimed it, or the sweep deleted
 * it), so an attachment belongs to one message at most.
 */
export function claimAttachment(
  op: Deno.AtomicOperation,
  entry: Deno.KvEntry<AttachmentRecord>,
  seq: number,
): Deno.AtomicOperation {
  const rec = entry.value;
  op.check(entry).set(keys.attachment(rec.id), { ...rec, unsentDue: null, messageSeq: seq });
  if (rec.unsentDue !== null) op.delete(keys.attachmentUnsent(rec.unsentDue, rec.id));
  return op;
}

/** Unsent attachments whose time is up. */
export async function dueUnsent(kv: Deno.Kv, now: number, limit = 500): Promise<string[]> {
  const entries = await listAll<true>(kv, {
    start: keys.attachmentsUnsentPrefix(),
    end: [...keys.attachmentsUnsentPrefix(), now + 1],
  }, { limit });
  return entries.map((e) => e.key[2] as string);
}

/** Adds to `op` the deletion of an unsent attachment's record and index entry. */
export function deleteUnsent(
  op: Deno.AtomicOperation,
  entry: Deno.KvEntry<AttachmentRecord>,
): Deno.AtomicOperation {
  op.check(entry).delete(keys.attachment(entry.value.id));
  if (entry.value.unsentDue !== null) {
    op.delete(keys.attachmentUnsent(entry.value.unsentDue, entry.value.id));
  }
  return op;
}

/** The user's quota window as of `now` (a fresh one when the last has ended). */
export async function getQuota(
  kv: Deno.Kv,
  userId: string,
  now: number,
  windowMs: number,
): Promise<{ entry: Deno.KvEntryMaybe<QuotaRecord>; quota: QuotaRecord }> {
  const entry = await retry(() => kv.get<QuotaRecord>(keys.uploadQuota(userId)));
  const live = entry.value && entry.value.start + windowMs > now ? entry.value : null;
  return { entry, quota: live ?? { start: now, used: 0 } };
}

/**
 * Counts `bytes` against the user's quota, or returns the ms until the window resets when they
 * do not fit. Checked and written in one commit, retried when parallel uploads race.
 */
export async function chargeQuota(
  kv: Deno.Kv,
  userId: string,
  bytes: number,
  limit: number,
  windowMs: number,
  now = Date.now(),
): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
  for (;;) {
    const { entry, quota } = await getQuota(kv, userId, now, windowMs);
    if (quota.used + bytes > limit) {
      return { ok: false, retryAfterMs: Math.max(1, quota.start + windowMs - now) };
    }
    const next = { start: quota.start, used: quota.used + bytes };
    const res = await retry(() =>
      kv.atomic().check(entry).set(keys.uploadQuota(userId), next, {
        expireIn: Math.max(1, next.start + windowMs - now),
      }).commit()
    );
    if (res.ok) return { ok: true };
  }
}
