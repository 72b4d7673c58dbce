/**
 * Attachment records, the index of uploads no message refers to yet, and upload quotas.
 * The bytes themselves live in the blob store (`blobs.ts`).
 * @module
 */
import { AppError, notFound } from "../errors.ts";
import { type Attachment, type Message, type ReplyTo, unchanged } from "../protocol.ts";
import type { MemberRecord } from "./conversations.ts";
import { moveInbox } from "./inbox.ts";
import { keys } from "./keys.ts";
import { listAll, retry } from "./kv.ts";
import type { BlobStore, StagedBlob } from "./blobs.ts";
import { forStorage, type Head, headCount, type IdemRecord } from "./messages.ts";

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

/** A user's quota window: when it started (its end is `start + windowMs`). */
export interface QuotaWindow {
  start: number;
}

/** How much a user uploaded in the current quota window. */
export interface Quota {
  start: number;
  used: number;
  /** What the charge checks: the window changes only when it rolls over. */
  windowEntry: Deno.KvEntryMaybe<QuotaWindow>;
  /** True when the window has ended (or none began): the next charge starts a new one. */
  fresh: boolean;
}

export async function getAttachment(
  kv: Deno.Kv,
  id: string,
): Promise<Deno.KvEntryMaybe<AttachmentRecord>> {
  return await retry(() => kv.get<AttachmentRecord>(keys.attachment(id)));
}

/**
 * Stores a new, unreferenced attachment (to be deleted at `unsentDue` unless a message claims
 * it) and makes its blobs visible, in one commit. False when that commit fails its checks (a
 * sweep took the blobs' chunks meanwhile): nothing is then stored.
 */
export async function saveAttachment(
  kv: Deno.Kv,
  rec: AttachmentRecord,
  blobs: StagedBlob[],
): Promise<boolean> {
  if (rec.unsentDue === null) throw new Error("a new attachment is unsent");
  const op = kv.atomic()
    .check({ key: keys.attachment(rec.id), versionstamp: null })
    .set(keys.attachment(rec.id), rec)
    .set(keys.attachmentUnsent(rec.unsentDue, rec.id), true);
  for (const b of blobs) b.commit(op);
  return (await retry(() => op.commit())).ok;
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

/**
 * Deletes an unsent attachment whose time is up, with its blobs (their chunks go at the blob
 * store's next sweep), in one commit that checks nobody claimed it meanwhile. True when it was
 * deleted.
 */
export async function deleteUnsent(
  kv: Deno.Kv,
  blobs: BlobStore,
  id: string,
  now: number,
): Promise<boolean> {
  const entry = await getAttachment(kv, id);
  const rec = entry.value;
  if (!rec || rec.unsentDue === null || rec.unsentDue > now) return false;
  const op = kv.atomic()
    .check(entry)
    .delete(keys.attachment(rec.id))
    .delete(keys.attachmentUnsent(rec.unsentDue, rec.id));
  blobs.remove(op, rec.blobId, now);
  if (rec.preview) blobs.remove(op, rec.preview.blobId, now);
  return (await retry(() => op.commit())).ok;
}

/** The user's quota as of `now`: the live window and what was uploaded in it. */
export async function getQuota(
  kv: Deno.Kv,
  userId: string,
  now: number,
  windowMs: number,
): Promise<Quota> {
  const windowEntry = await retry(() => kv.get<QuotaWindow>(keys.uploadWindow(userId)));
  const w = windowEntry.value;
  if (!w || w.start + windowMs <= now) return { start: now, used: 0, windowEntry, fresh: true };
  const used = await retry(() => kv.get<Deno.KvU64>(keys.uploadUsed(userId, w.start)));
  return { start: w.start, used: Number(used.value?.value ?? 0n), windowEntry, fresh: false };
}

/**
 * Adds to `op` the charge of `bytes` against the user's quota, or returns the ms until the
 * window resets when they do not fit. The bytes are added with `sum`, which takes no check, so
 * parallel uploads of one user never make each other's commits fail; what parallel uploads may
 * overshoot between the read and the commit is one batch each. Only a window's rollover is
 * checked (two uploads cannot both start a window), and it deletes the old window's counter.
 */
export async function chargeQuota(
  kv: Deno.Kv,
  op: Deno.AtomicOperation,
  userId: string,
  bytes: number,
  limit: number,
  windowMs: number,
  now = Date.now(),
): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
  const q = await getQuota(kv, userId, now, windowMs);
  if (q.used + bytes > limit) {
    return { ok: false, retryAfterMs: Math.max(1, q.start + windowMs - now) };
  }
  op.check(q.windowEntry);
  if (q.fresh) {
    op.set(keys.uploadWindow(userId), { start: q.start } satisfies QuotaWindow);
    const old = q.windowEntry.value;
    if (old) op.delete(keys.uploadUsed(userId, old.start));
  }
  op.sum(keys.uploadUsed(userId, q.start), BigInt(bytes));
  return { ok: true };
}

/** A message that carries an attachment, before it has a seq. */
export interface AttachmentDraft {
  id: string;
  senderId: string;
  kind: "image" | "file";
  /** The caption; "" for none. */
  body: string;
  attachmentId: string;
  /** The message answered (its excerpt is served, never stored) and the members named. */
  replyTo?: ReplyTo | null;
  mentions?: string[];
}

/** Why a send may not use an attachment: refused with `field: "attachmentId"`. */
function refuse(message: string): AppError {
  return new AppError("invalid_input", message, { field: "attachmentId" });
}

/**
 * Stores a message that carries an attachment and claims the attachment for it, in ONE atomic
 * commit: the message under the conversation's next seq, its idempotency entry, the sender's
 * read cursor, the head, and the attachment's new owner. The commit checks the head, the id,
 * the sender's membership and the attachment record, so two messages can never claim one
 * upload, and a sweep deleting it cannot race the send. Attachment sends take this path, not the
 * text sends' group commit, so claiming costs text sends nothing. `toWire` renders the record as
 * the message will carry it.
 * @throws AppError `not_found` (not a member), `invalid_input` field `attachmentId` (not the
 * sender's, another conversation's, already sent, gone) or field `kind` ("image" for a file).
 */
export async function commitAttachmentMessage(
  kv: Deno.Kv,
  convId: string,
  draft: AttachmentDraft,
  toWire: (rec: AttachmentRecord) => Attachment,
): Promise<{ stored: Message; head: Deno.KvEntry<Head> } | { existing: IdemRecord }> {
  for (let attempt = 0;; attempt++) {
    const [head, idem, member, att] = await retry(() =>
      kv.getMany<[Head, IdemRecord, MemberRecord, AttachmentRecord]>([
        keys.head(convId),
        keys.idem(convId, draft.id),
        keys.member(convId, draft.senderId),
        keys.attachment(draft.attachmentId),
      ])
    );
    if (idem.value) return { existing: idem.value };
    if (!member.value || !head.value) throw notFound();
    const rec = att.value;
    if (!rec || rec.conversationId !== convId && rec.uploaderId !== draft.senderId) {
      throw refuse("That attachment does not exist. Upload the file again.");
    }
    if (rec.uploaderId !== draft.senderId) {
      throw refuse("That attachment was uploaded by someone else: upload your own copy.");
    }
    if (rec.conversationId !== convId) {
      throw refuse("That attachment belongs to another conversation: upload it here again.");
    }
    if (rec.messageSeq !== null) {
      throw refuse("That attachment was already sent. Upload it again to send it once more.");
    }
    if (draft.kind === "image" && rec.width === null) {
      throw new AppError("invalid_input", 'This file is not an image: send it as kind "file".', {
        field: "kind",
      });
    }
    const ts = Date.now();
    const seq = head.value.seq + 1;
    const message: Message = {
      id: draft.id,
      conversationId: convId,
      seq,
      senderId: draft.senderId,
      kind: draft.kind,
      body: draft.body,
      ts,
      attachment: toWire(rec),
      ...unchanged(seq),
      replyTo: draft.replyTo ?? null,
      mentions: draft.mentions ?? [],
    };
    const stored = forStorage(message);
    const n = headCount(head.value) + 1;
    const newHead: Head = { ...head.value, seq, ts, last: stored, n };
    const op = kv.atomic()
      .check(head)
      .check(member)
      .check({ key: keys.idem(convId, draft.id), versionstamp: null })
      .set(keys.message(convId, seq), stored)
      .set(keys.idem(convId, draft.id), { seq, ts, senderId: draft.senderId } satisfies IdemRecord)
      .set(keys.cursor(convId, draft.senderId), { seq, n })
      .set(keys.head(convId), newHead);
    for (const u of message.mentions) {
      if (u !== draft.senderId) op.set(keys.mention(u, convId, seq), true);
    }
    moveInbox(op, convId, head.value, ts);
    claimAttachment(op, att as Deno.KvEntry<AttachmentRecord>, seq);
    const res = await retry(() => op.commit());
    if (res.ok) {
      return {
        stored: message,
        head: { key: keys.head(convId), value: newHead, versionstamp: res.versionstamp },
      };
    }
    if (attempt > 1000) throw new Error("attachment send could not commit after many attempts");
  }
}
