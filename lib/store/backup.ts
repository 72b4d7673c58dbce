/**
 * Backup and restore of the whole store as JSON lines: a header line, then one line per KV
 * entry `{"key": [...], "value": ..., "expiresAt"?: ms}` with keys and values in the lossless
 * encoding of `codec.ts`.
 *
 * Consistency: an export taken while the server runs is not a snapshot. Deno KV reads a list
 * in batches, so every entry is exactly as some commit left it, but entries listed later may be
 * newer than entries listed earlier (a message may be there while the conversation head listed
 * before it still names an older seq). Import therefore recomputes what is derived: each
 * conversation's head is raised to its newest loaded message, and idempotency entries pointing
 * past the head (their message was written after the export passed `messages`) are dropped, so
 * a retried send is stored anew rather than acked with another message's seq. For a
 * point-in-time copy, stop the server (or take the export from a stopped replica).
 *
 * Not exported, because they are rebuilt by running servers or are short-lived throttles:
 * live presence (`online`), the cross-isolate event log (`events`, `events_head`), metrics
 * snapshots, and login/sign-up throttles. Sessions are exported with their expiry, so people
 * stay signed in on the restored server; the file therefore holds the token-signing secret and
 * password hashes and must be kept as carefully as the KV file itself.
 * @module
 */
import type { Message } from "../protocol.ts";
import { decodeKey, decodeValue, encodeKey, encodeValue, type Json } from "./codec.ts";
import { buildListIndex } from "./inbox_build.ts";
import { keys } from "./keys.ts";
import { isTransient, retry } from "./kv.ts";
import type { Head, IdemRecord } from "./messages.ts";
import { readSchemaVersion, SCHEMA_VERSION } from "./schema.ts";
import { recountBlobBytes } from "./metrics.ts";

/** The first line of an export. */
export interface BackupHeader {
  format: "parley-kv-export";
  formatVersion: 1;
  /** The store's schema version when exported (null: an empty store). */
  schemaVersion: number | null;
  exportedAt: string;
  /** Entries per top-level key prefix (`users`, `conversations`, `messages`, …). */
  counts: Record<string, number>;
  entries: number;
  consistency: string;
}

/** Top-level prefixes that are rebuilt or short-lived, and so not worth restoring. */
const SKIPPED = new Set([
  "online",
  "events",
  "events_head",
  "metrics",
  "login_fail",
  "registrations",
  "meta",
  // The conversation list's index: import builds it again from the heads and members.
  "inbox",
  "big_groups",
]);
/** Prefixes whose values carry an `expiresAt` that becomes `expireIn` again on import. */
const EXPIRING = new Set<string>([keys.session("")[0], keys.userSession("", "")[0]]);

const CONSISTENCY =
  "per entry, not a snapshot; import recomputes conversation heads from the messages it loads";

function expiresAtOf(key: Deno.KvKey, value: unknown): number | undefined {
  if (!EXPIRING.has(key[0] as string)) return undefined;
  const at = (value as { expiresAt?: unknown } | null)?.expiresAt;
  return typeof at === "number" ? at : undefined;
}

/**
 * Writes every entry of the store to `write`, header first. The body goes through a temporary
 * file so that the header, which comes first, can carry the final counts.
 * @returns the header written.
 */
export async function exportStore(
  kv: Deno.Kv,
  write: (chunk: Uint8Array) => Promise<unknown>,
): Promise<BackupHeader> {
  const enc = new TextEncoder();
  const tmp = await Deno.makeTempFile({ prefix: "parley-export-" });
  try {
    const counts: Record<string, number> = {};
    let entries = 0;
    const schemaVersion = await readSchemaVersion(kv);
    {
      using body = await Deno.open(tmp, { write: true });
      let buf = "";
      // A long list can meet the lock of a server writing the same file: resume where it was.
      let cursor: string | undefined;
      for (let attempt = 0;; attempt++) {
        try {
          const iter = kv.list({ prefix: [] }, { cursor });
          for await (const entry of iter) {
            cursor = iter.cursor;
            const top = String(entry.key[0]);
            if (SKIPPED.has(top)) continue;
            const expiresAt = expiresAtOf(entry.key, entry.value);
            if (expiresAt !== undefined && expiresAt <= Date.now()) continue;
            const line: Record<string, Json> = {
              key: encodeKey(entry.key),
              value: encodeValue(entry.value),
            };
            if (expiresAt !== undefined) line.expiresAt = expiresAt;
            buf += JSON.stringify(line) + "\n";
            counts[top] = (counts[top] ?? 0) + 1;
            entries++;
            if (buf.length > 1 << 16) {
              await body.write(enc.encode(buf));
              buf = "";
            }
          }
          break;
        } catch (err) {
          if (!isTransient(err) || attempt >= 30) throw err;
          await new Promise((r) => setTimeout(r, 20 + attempt * 10));
        }
      }
      if (buf) await body.write(enc.encode(buf));
    }
    const header: BackupHeader = {
      format: "parley-kv-export",
      formatVersion: 1,
      schemaVersion,
      exportedAt: new Date().toISOString(),
      counts,
      entries,
      consistency: CONSISTENCY,
    };
    await write(enc.encode(JSON.stringify(header) + "\n"));
    using file = await Deno.open(tmp, { read: true });
    for await (const chunk of file.readable) await write(chunk);
    return header;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/** Thrown when an import is refused; the message says why and what to do. */
export class ImportError extends Error {
  override name = "ImportError";
}

/** Splits a byte stream into lines. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.trim()) yield line;
    }
  }
  if (rest.trim()) yield rest;
}

/** True when the store holds nothing but its schema version. */
export async function isEmptyStore(kv: Deno.Kv): Promise<boolean> {
  for await (const e of kv.list({ prefix: [] })) {
    if (e.key[0] !== keys.metaPrefix()[0]) return false;
  }
  return true;
}

const BATCH_ENTRIES = 200;
const BATCH_BYTES = 400_000;

/**
 * Loads an export into `kv`. Refuses a store that holds data unless `force` (then entries in
 * the file overwrite entries with the same key; others stay). Recomputes conversation heads
 * and drops idempotency entries past them (see the module comment), then records the file's
 * schema version, so the next start migrates the store if it is older than the code.
 * @throws ImportError for a file that is not an export, a newer schema, or a non-empty store.
 */
export async function importStore(
  kv: Deno.Kv,
  input: AsyncIterable<string>,
  opts: { force?: boolean } = {},
): Promise<
  { header: BackupHeader; imported: number; expiredSkipped: number; headsRaised: number }
> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  let header: BackupHeader;
  try {
    header = JSON.parse(first.done ? "" : first.value);
  } catch {
    throw new ImportError("The file does not start with a Parley export header.");
  }
  if (header?.format !== "parley-kv-export" || header.formatVersion !== 1) {
    throw new ImportError("The file does not start with a Parley export header.");
  }
  if ((header.schemaVersion ?? 0) > SCHEMA_VERSION) {
    throw new ImportError(
      `The export has schema version ${header.schemaVersion}, newer than this release ` +
        `understands (${SCHEMA_VERSION}). Import it with the release that made it.`,
    );
  }
  if (!opts.force && !(await isEmptyStore(kv))) {
    throw new ImportError(
      "The target store already holds data. Import into an empty store, or pass --force to " +
        "write over it (entries with the same key are replaced, others stay).",
    );
  }

  const maxMessage = new Map<string, Message>();
  let imported = 0;
  let expiredSkipped = 0;
  let op = kv.atomic();
  let inBatch = 0;
  let batchBytes = 0;
  const flush = async () => {
    if (inBatch === 0) return;
    const res = await retry(() => op.commit());
    if (!res.ok) throw new ImportError("A batch of the import could not be committed.");
    op = kv.atomic();
    inBatch = 0;
    batchBytes = 0;
  };
  let lineNo = 1;
  for (let next = await it.next(); !next.done; next = await it.next()) {
    lineNo++;
    let key: Deno.KvKey;
    let value: unknown;
    let expiresAt: number | undefined;
    try {
      const row = JSON.parse(next.value);
      key = decodeKey(row.key);
      value = decodeValue(row.value);
      expiresAt = typeof row.expiresAt === "number" ? row.expiresAt : undefined;
    } catch (err) {
      throw new ImportError(
        `Line ${lineNo} of the export is not an entry: ${(err as Error).message}`,
      );
    }
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      expiredSkipped++;
      continue;
    }
    if (key[0] === keys.messagesOf("")[0] && typeof key[1] === "string") {
      const msg = value as Message;
      const prev = maxMessage.get(key[1]);
      if (!prev || msg.seq > prev.seq) maxMessage.set(key[1], msg);
    }
    op = op.set(key, value, expiresAt === undefined ? {} : { expireIn: expiresAt - Date.now() });
    inBatch++;
    batchBytes += next.value.length;
    imported++;
    if (inBatch >= BATCH_ENTRIES || batchBytes >= BATCH_BYTES) await flush();
  }
  await flush();

  // Heads: raised to the newest message loaded (never lowered: a change may own a later seq).
  let headsRaised = 0;
  const headSeq = new Map<string, number>();
  for (const [convId, msg] of maxMessage) {
    const head = await retry(() => kv.get<Head>(keys.head(convId)));
    if (!head.value || head.value.seq < msg.seq) {
      await retry(() =>
        kv.set(keys.head(convId), { ...head.value, seq: msg.seq, ts: msg.ts, last: msg })
      );
      headsRaised++;
      headSeq.set(convId, msg.seq);
    } else headSeq.set(convId, head.value.seq);
  }
  for await (const e of kv.list<IdemRecord>({ prefix: keys.idem("", "").slice(0, 1) })) {
    const convId = e.key[1] as string;
    const seq = headSeq.get(convId) ??
      (await retry(() => kv.get<Head>(keys.head(convId)))).value?.seq ?? 0;
    if (e.value.seq > seq) await retry(() => kv.delete(e.key));
  }
  // The byte counter of the blob store, like the heads, may be older than the chunks after it.
  await recountBlobBytes(kv);
  // Raised heads left the list index behind (and the export was no snapshot): built again.
  await buildListIndex(kv, true);
  await retry(() => kv.set(keys.schemaVersion(), header.schemaVersion ?? SCHEMA_VERSION));
  return { header, imported, expiredSkipped, headsRaised };
}
