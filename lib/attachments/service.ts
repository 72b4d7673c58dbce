/**
 * Attachments: uploads into a conversation (membership, size limit, quota, the type from the
 * bytes, the preview), the checks behind every download, and the removal of uploads that no
 * message claimed within a day. The HTTP edge is routes/attachments.ts; the bytes live in a
 * BlobStore.
 * @module
 */
import type { Config } from "../config.ts";
import { AppError, notFound } from "../errors.ts";
import { log } from "../log.ts";
import { type Attachment, LIMITS, NAME_FORBIDDEN } from "../protocol.ts";
import {
  type AttachmentRecord,
  chargeQuota,
  deleteUnsent,
  dueUnsent,
  getAttachment,
  getQuota,
  saveAttachment,
} from "../store/attachments.ts";
import { type BlobStore, BlobTooLarge, type StagedBlob } from "../store/blobs.ts";
import { getMember } from "../store/conversations.ts";
import { PreviewMaker } from "./preview.ts";
import { looksLikeImage, SIGNATURE_BYTES, sniffImage } from "./sniff.ts";

/** An upload no message refers to is deleted after this long. */
export const UNSENT_TTL_MS = 24 * 3600 * 1000;
/**
 * Candidate images up to this size are kept in memory for the full check and the preview;
 * larger ones are stored as files. It bounds the memory one upload can take.
 */
export const IMAGE_MAX_BYTES = 32 * 1024 * 1024;

/** Checks an attachment's file name: 1 to 255 code points, well-formed, nothing that hides. */
export function checkName(name: string | undefined): string {
  const bad = (message: string) => new AppError("invalid_input", message, { field: "name" });
  if (name === undefined || name === "") throw bad("name is required: the file's name.");
  if (!name.isWellFormed()) throw bad("name must be well-formed text.");
  if ([...name].length > LIMITS.attachmentNameMax) {
    throw bad("name must be at most 255 characters.");
  }
  if (NAME_FORBIDDEN.test(name)) {
    throw bad("name must not contain control or text-direction characters.");
  }
  return name;
}

/**
 * The type kept for a file: the client's own, for display only, unless it is missing, malformed
 * or claims to be an image (only the bytes may say that).
 */
export function fileType(declared: string | undefined): string {
  const t = (declared ?? "").split(";")[0].trim().toLowerCase();
  if (!t || t.length > 100 || t.startsWith("image/")) return "application/octet-stream";
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(t)
    ? t
    : "application/octet-stream";
}

/** The wire form of a record. */
export function toAttachment(rec: AttachmentRecord): Attachment {
  const url = `/api/attachments/${encodeURIComponent(rec.id)}`;
  return {
    id: rec.id,
    conversationId: rec.conversationId,
    name: rec.name,
    size: rec.size,
    type: rec.type,
    sha256: rec.sha256,
    width: rec.width,
    height: rec.height,
    previewUrl: rec.width !== null ? `${url}/preview` : null,
    url,
  };
}

export interface UploadInput {
  userId: string;
  conversationId: string;
  name: string | undefined;
  declaredType: string | undefined;
  /** The Content-Length header, when there is one. */
  contentLength: string | undefined;
  body: ReadableStream<Uint8Array> | null;
}

export class AttachmentService {
  readonly previews = new PreviewMaker();

  constructor(
    private readonly kv: Deno.Kv,
    readonly blobs: BlobStore,
    private readonly config: Pick<
      Config,
      "attachmentMaxBytes" | "attachmentQuotaBytes" | "attachmentQuotaWindowMs"
    >,
  ) {}

  /**
   * Stores an upload and returns it, unreferenced until a message claims it.
   * @throws AppError not_found (not a member), invalid_input (name), too_large, rate_limited
   */
  async upload(input: UploadInput): Promise<Attachment> {
    const { userId, conversationId } = input;
    if (!(await getMember(this.kv, conversationId, userId))) throw notFound();
    const max = this.config.attachmentMaxBytes;
    const declared = input.contentLength === undefined ? NaN : Number(input.contentLength);
    if (declared > max) throw tooLarge(max);
    const name = checkName(input.name);
    const quota = await getQuota(
      this.kv,
      userId,
      Date.now(),
      this.config.attachmentQuotaWindowMs,
    );
    const windowEnd = quota.start + this.config.attachmentQuotaWindowMs;
    if (
      quota.used >= this.config.attachmentQuotaBytes ||
      quota.used + declared > this.config.attachmentQuotaBytes
    ) {
      throw overQuota(windowEnd - Date.now());
    }

    // Keep the pieces of what may be an image, up to IMAGE_MAX_BYTES, for the full check.
    let kept: Uint8Array[] | null = [];
    let keptBytes = 0;
    let headChecked = false;
    const observe = (piece: Uint8Array) => {
      if (!kept) return;
      kept.push(piece);
      keptBytes += piece.length;
      if (keptBytes > IMAGE_MAX_BYTES) kept = null;
      else if (!headChecked && keptBytes >= SIGNATURE_BYTES) {
        headChecked = true;
        if (!looksLikeImage(concat(kept, SIGNATURE_BYTES))) kept = null;
      }
    };
    const body = input.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    let staged: StagedBlob;
    try {
      staged = await this.blobs.put(body, {
        maxBytes: max,
        observe,
        accept: async (bytes, op) => {
          const res = await chargeQuota(
            this.kv,
            op,
            userId,
            bytes,
            this.config.attachmentQuotaBytes,
            this.config.attachmentQuotaWindowMs,
          );
          if (!res.ok) throw overQuota(res.retryAfterMs);
        },
      });
    } catch (err) {
      if (err instanceof BlobTooLarge) throw tooLarge(max);
      if (err instanceof AppError) throw err;
      // Mostly a client that went away; anything else is ours to see in the log.
      log.info("upload stopped", { error: String(err) });
      throw new AppError("invalid_input", "The upload was interrupted. Please try again.");
    }

    const toCommit: StagedBlob[] = [staged];
    let image: Pick<AttachmentRecord, "type" | "width" | "height" | "preview"> | null = null;
    try {
      const bytes = kept ? concat(kept, keptBytes) : null;
      kept = null;
      const sniffed = bytes ? sniffImage(bytes) : null;
      const made = bytes && sniffed ? await this.previews.make(bytes, sniffed) : null;
      if (sniffed && made) {
        let preview: AttachmentRecord["preview"] = null;
        if (made.preview) {
          const p = made.preview;
          const previewBlob = await this.blobs.put(
            new Blob([p.bytes as Uint8Array<ArrayBuffer>]).stream(),
            { maxBytes: Infinity },
          );
          toCommit.push(previewBlob);
          preview = {
            blobId: previewBlob.manifest.id,
            type: p.type,
            width: p.width,
            height: p.height,
          };
        }
        image = { type: sniffed.type, width: made.width, height: made.height, preview };
      }
    } catch (err) {
      await Promise.all(toCommit.map((b) => b.discard().catch(() => {})));
      throw err;
    }

    const now = Date.now();
    const rec: AttachmentRecord = {
      id: crypto.randomUUID(),
      conversationId,
      uploaderId: userId,
      name,
      size: staged.manifest.size,
      type: image?.type ?? fileType(input.declaredType),
      sha256: staged.manifest.sha256,
      width: image?.width ?? null,
      height: image?.height ?? null,
      blobId: staged.manifest.id,
      preview: image?.preview ?? null,
      createdAt: now,
      unsentDue: now + UNSENT_TTL_MS,
      messageSeq: null,
    };
    if (!(await saveAttachment(this.kv, rec, toCommit))) {
      await Promise.all(toCommit.map((b) => b.discard().catch(() => {})));
      throw new AppError("internal", "The upload could not be stored. Please try again.");
    }
    return toAttachment(rec);
  }

  /**
   * The record behind a download, for a member of its conversation.
   * @throws AppError not_found for anyone else, and for unknown ids.
   */
  async forMember(userId: string, id: string): Promise<AttachmentRecord> {
    const notThere = () =>
      new AppError("not_found", "That attachment does not exist or you cannot see it.");
    if (!id || id.length > 100 || !id.isWellFormed()) throw notThere();
    const entry = await getAttachment(this.kv, id);
    if (!entry.value) throw notThere();
    if (!(await getMember(this.kv, entry.value.conversationId, userId))) throw notThere();
    return entry.value;
  }

  /** Deletes unreferenced uploads whose day is up, then sweeps the blob store. */
  async sweep(now = Date.now()): Promise<{ attachments: number; blobs: number }> {
    let attachments = 0;
    for (const id of await dueUnsent(this.kv, now)) {
      if (await deleteUnsent(this.kv, this.blobs, id, now)) attachments++;
    }
    const blobs = await this.blobs.sweep(now);
    if (attachments || blobs) log.info("attachments swept", { attachments, blobs });
    return { attachments, blobs };
  }

  close(): void {
    this.previews.close();
  }
}

function concat(pieces: Uint8Array[], limit: number): Uint8Array {
  const out = new Uint8Array(Math.min(limit, pieces.reduce((n, p) => n + p.length, 0)));
  let at = 0;
  for (const p of pieces) {
    if (at >= out.length) break;
    const take = Math.min(p.length, out.length - at);
    out.set(p.subarray(0, take), at);
    at += take;
  }
  return out;
}

function tooLarge(max: number): AppError {
  const mib = Math.round((max / (1024 * 1024)) * 10) / 10;
  return new AppError("too_large", `A file may be at most ${mib} MiB.`);
}

function overQuota(retryAfterMs: number): AppError {
  return new AppError(
    "rate_limited",
    "You have uploaded as much as you may for now. Please try again later.",
    { retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)) },
  );
}
