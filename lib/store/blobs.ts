/**
 * The blob store: bytes of any size on Deno KV, so attachments work the same on one machine and
 * on Deno Deploy. A KV value holds at most 64 KiB and an atomic commit at most 800 KiB and 1000
 * mutations, so a blob is a run of 64 KiB chunks plus a manifest that says how many there are.
 *
 * Visibility and collection. An upload writes a collection record `["blob_gc", dueAt, blobId]`
 * in the commit of its first chunks, then the rest (8 chunks per commit), and is made visible by the
 * caller's own commit that writes the manifest and deletes that record (`StagedBlob.commit`).
 * A blob without a manifest is never served, so a half-finished upload is invisible. If the
 * uploader dies, the record stays, and `sweep` deletes the chunks once it is due. Deleting a
 * blob removes the manifest and writes a record due at once, in the caller's commit; the chunks
 * go at the next sweep. Why not `expireIn` on the chunks, cleared when the manifest lands? A
 * 10 MiB blob is 160 chunks, 10 MiB of values: clearing their expiry means rewriting every
 * chunk, in many commits after the manifest's, and a crash between them leaves a manifest
 * whose chunks then expire under it. A record per blob costs one key and fails safe.
 *
 * Accounting: `["blob_bytes"]` holds the bytes in chunks (uploads in progress and removed blobs
 * not yet swept included), added in the commit that writes them and taken away in the commit that
 * deletes them, so it is exact at every commit and the same for every isolate (`/metrics` serves
 * it as `parley_attachment_bytes`).
 *
 * Memory: at most one batch (512 KiB) per upload, one chunk per download.
 * @module
 */
import { createHash } from "node:crypto";
import { keys } from "./keys.ts";
import { retry } from "./kv.ts";

/** Bytes per chunk: the largest KV value. */
export const CHUNK_BYTES = 64 * 1024;
/** Chunks per commit: 512 KiB, under the 800 KiB a commit may carry. */
const CHUNKS_PER_COMMIT = 8;
/** An upload that runs longer than this is abandoned (and its chunks collected). */
export const UPLOAD_MAX_MS = 60 * 60 * 1000;
/** When an unfinished upload's chunks may be collected: well after it must have ended. */
const PENDING_GRACE_MS = 2 * UPLOAD_MAX_MS;
/** Chunks deleted per commit: a commit may carry at most 100 checks, one per chunk here. */
const COLLECT_BATCH = 100;

/** `Deno.KvU64` sums wrap at 2^64, so adding 2^64 − n takes n away. */
function subtract(n: number): bigint {
  return ((1n << 64n) - BigInt(n)) % (1n << 64n);
}

export interface BlobManifest {
  id: string;
  size: number;
  /** Lowercase hex. */
  sha256: string;
  chunkBytes: number;
  createdAt: number;
}

/** A blob whose chunks are written but which nothing can see until `commit` lands. */
export interface StagedBlob {
  manifest: BlobManifest;
  /** Adds to `op` what makes the blob visible: the manifest, and the end of its collection record. */
  commit(op: Deno.AtomicOperation): Deno.AtomicOperation;
  /** Deletes the chunks now (the upload was refused); the sweep would do it later anyway. */
  discard(): Promise<void>;
}

export interface PutOptions {
  /** Refuse (throw `tooLarge()`) as soon as more bytes than this have arrived. */
  maxBytes: number;
  /**
   * Called with the size of each batch and the commit that will write it; it may add its own
   * checks and writes to that commit (a quota counted while the bytes stream in), and throwing
   * stops the upload (its chunks are discarded). When the commit fails a check, it is called
   * again with a fresh commit.
   */
  accept?: (bytes: number, op: Deno.AtomicOperation) => Promise<void> | void;
  /** Called with every piece of the stream as it passes (bounded by the caller). */
  observe?: (piece: Uint8Array) => void;
}

/** Where blobs live. One implementation, on Deno KV; the interface is what routes and services see. */
export interface BlobStore {
  /** Streams `body` in; on any failure nothing stays visible and the chunks are collected. */
  put(body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<StagedBlob>;
  /** The manifest of a visible blob, or null. */
  stat(id: string): Promise<BlobManifest | null>;
  /** Streams bytes `start` to `end` (inclusive) of a blob, reading only the chunks needed. */
  read(manifest: BlobManifest, start?: number, end?: number): ReadableStream<Uint8Array>;
  /** Adds to `op` the deletion of a visible blob; its chunks go at the next sweep. */
  remove(op: Deno.AtomicOperation, id: string, now?: number): Deno.AtomicOperation;
  /** Deletes the chunks of abandoned uploads and removed blobs that are due; returns how many blobs. */
  sweep(now?: number): Promise<number>;
}

/** Thrown by `put` when the body passes `maxBytes`. */
export class BlobTooLarge extends Error {
  constructor() {
    super("blob too large");
    this.name = "BlobTooLarge";
  }
}

/** The blob store on Deno KV. */
export class KvBlobStore implements BlobStore {
  constructor(private readonly kv: Deno.Kv) {}

  async put(body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<StagedBlob> {
    const id = crypto.randomUUID();
    const started = Date.now();
    const gcKey = keys.blobGc(started + PENDING_GRACE_MS, id);
    // The collection record goes in with the first batch of chunks (one commit fewer per
    // upload); an empty blob has no chunks and needs none.
    let gcStamp: string | null = null;
    const hash = createHash("sha256");
    const reader = body.getReader();
    let size = 0;
    let index = 0;
    let chunk = new Uint8Array(CHUNK_BYTES);
    let filled = 0;
    let batch: Uint8Array[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      if (Date.now() - started > UPLOAD_MAX_MS) throw new Error("upload took too long");
      const bytes = batch.reduce((n, c) => n + c.length, 0);
      for (let attempt = 0;; attempt++) {
        const op = this.kv.atomic();
        await opts.accept?.(bytes, op);
        if (gcStamp === null) op.set(gcKey, { reason: "upload" });
        batch.forEach((c, i) => op.set(keys.blobChunk(id, index + i), c));
        op.sum(keys.blobBytes(), BigInt(bytes));
        const res = await retry(() => op.commit());
        if (res.ok) {
          gcStamp ??= res.versionstamp;
          break;
        }
        if (attempt > 100) throw new Error("a chunk commit kept failing its checks");
      }
      index += batch.length;
      batch = [];
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > opts.maxBytes) throw new BlobTooLarge();
        hash.update(value);
        opts.observe?.(value);
        let at = 0;
        while (at < value.length) {
          const n = Math.min(CHUNK_BYTES - filled, value.length - at);
          chunk.set(value.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === CHUNK_BYTES) {
            batch.push(chunk);
            chunk = new Uint8Array(CHUNK_BYTES);
            filled = 0;
            if (batch.length === CHUNKS_PER_COMMIT) await flush();
          }
        }
      }
      if (filled > 0) batch.push(chunk.subarray(0, filled));
      await flush();
    } catch (err) {
      reader.cancel().catch(() => {});
      await this.#collect(id, gcKey).catch(() => {});
      throw err;
    }
    const manifest: BlobManifest = {
      id,
      size,
      sha256: hash.digest("hex"),
      chunkBytes: CHUNK_BYTES,
      createdAt: Date.now(),
    };
    return {
      manifest,
      // The check fails the caller's commit if a sweep has already taken the chunks.
      commit: (op) => {
        op.check({ key: keys.blobManifest(id), versionstamp: null })
          .set(keys.blobManifest(id), manifest);
        return gcStamp === null
          ? op
          : op.check({ key: gcKey, versionstamp: gcStamp }).delete(gcKey);
      },
      discard: () => this.#collect(id, gcKey),
    };
  }

  async stat(id: string): Promise<BlobManifest | null> {
    return (await retry(() => this.kv.get<BlobManifest>(keys.blobManifest(id)))).value;
  }

  read(manifest: BlobManifest, start = 0, end = manifest.size - 1): ReadableStream<Uint8Array> {
    const { id, chunkBytes } = manifest;
    let at = start;
    const kv = this.kv;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (at > end) {
          controller.close();
          return;
        }
        const index = Math.floor(at / chunkBytes);
        const entry = await retry(() => kv.get<Uint8Array>(keys.blobChunk(id, index)));
        if (!entry.value) {
          controller.error(new Error(`blob ${id} lost chunk ${index}`));
          return;
        }
        const from = at - index * chunkBytes;
        const to = Math.min(entry.value.length, end - index * chunkBytes + 1);
        controller.enqueue(entry.value.subarray(from, to));
        at = index * chunkBytes + to;
      },
    }, { highWaterMark: 0 });
  }

  remove(op: Deno.AtomicOperation, id: string, now = Date.now()): Deno.AtomicOperation {
    return op.delete(keys.blobManifest(id)).set(keys.blobGc(now, id), { reason: "removed" });
  }

  async sweep(now = Date.now()): Promise<number> {
    let swept = 0;
    const due = this.kv.list<{ reason: string }>({
      start: keys.blobGcPrefix(),
      end: [...keys.blobGcPrefix(), now + 1],
    });
    for await (const entry of due) {
      const id = entry.key[2] as string;
      // A manifest means the blob is live (a removal record whose blob came back cannot
      // happen: ids are never reused), so only chunks without one are taken.
      if (await this.stat(id)) {
        await retry(() => this.kv.atomic().check(entry).delete(entry.key).commit());
        continue;
      }
      await this.#collect(id, entry.key);
      swept++;
    }
    return swept;
  }

  /**
   * Deletes every chunk of `id`, then its collection record. Each commit takes the chunks'
   * bytes off `["blob_bytes"]` and checks that those chunks are still there, so two isolates
   * sweeping the same blob cannot subtract its bytes twice (the loser lists again).
   */
  async #collect(id: string, gcKey: Deno.KvKey): Promise<void> {
    for (;;) {
      const batch: Deno.KvEntry<Uint8Array>[] = [];
      for await (
        const e of this.kv.list<Uint8Array>({ prefix: keys.blobChunksOf(id) }, {
          limit: COLLECT_BATCH,
        })
      ) batch.push(e);
      if (batch.length === 0) break;
      const op = this.kv.atomic();
      let bytes = 0;
      for (const e of batch) {
        op.check(e).delete(e.key);
        bytes += e.value.byteLength;
      }
      op.sum(keys.blobBytes(), subtract(bytes));
      await retry(() => op.commit());
    }
    await retry(() => this.kv.delete(gcKey));
  }
}
