/**
 * The KV side of cross-isolate metrics (see `lib/metrics.ts`): each isolate's latest snapshot,
 * a compressed blob split below KV's 64 KiB value limit, under `["metrics", isolateId, part]`,
 * expiring so that an isolate that is gone stops being reported.
 * @module
 */
import { keys } from "./keys.ts";
import { retry } from "./kv.ts";

interface SnapshotPart {
  ts: number;
  n: number;
  data: Uint8Array;
}

/** KV values are limited to 64 KiB. */
const PART_BYTES = 60_000;

/** Writes an isolate's snapshot (all parts in one commit), expiring after `ttlMs`. */
export async function writeMetricsSnapshot(
  kv: Deno.Kv,
  isolateId: string,
  data: Uint8Array,
  ttlMs: number,
): Promise<void> {
  const ts = Date.now();
  const n = Math.max(1, Math.ceil(data.length / PART_BYTES));
  let op = kv.atomic();
  for (let i = 0; i < n; i++) {
    const part: SnapshotPart = { ts, n, data: data.subarray(i * PART_BYTES, (i + 1) * PART_BYTES) };
    op = op.set(keys.metricsPart(isolateId, i), part, { expireIn: ttlMs });
  }
  await retry(() => op.commit());
}

/** Every other isolate's latest complete snapshot: isolate id → when it was taken, and data. */
export async function readMetricsSnapshots(
  kv: Deno.Kv,
  exclude: string,
): Promise<Map<string, { ts: number; data: Uint8Array }>> {
  const parts = new Map<string, SnapshotPart[]>();
  for await (const e of kv.list<SnapshotPart>({ prefix: keys.metricsPrefix() })) {
    const iso = String(e.key[1]);
    if (iso === exclude) continue;
    const list = parts.get(iso) ?? [];
    list[Number(e.key[2])] = e.value;
    parts.set(iso, list);
  }
  const out = new Map<string, { ts: number; data: Uint8Array }>();
  for (const [iso, list] of parts) {
    const first = list[0];
    if (!first || list.length < first.n) continue;
    const chunks = list.slice(0, first.n);
    // Parts of an older, larger snapshot may linger until they expire: same `ts` or nothing.
    if (chunks.some((p) => !p || p.ts !== first.ts)) continue;
    const data = new Uint8Array(chunks.reduce((n, p) => n + p.data.length, 0));
    let at = 0;
    for (const p of chunks) {
      data.set(p.data, at);
      at += p.data.length;
    }
    out.set(iso, { ts: first.ts, data });
  }
  return out;
}

/**
 * Bytes the blob store holds (the `["blob_bytes"]` counter that its chunk commits keep), read
 * at scrape time: one KV read, the same whichever isolate answers. A value that wrapped below
 * zero (more taken away than was ever counted: chunks from before the counter) reads as its
 * signed value, so such a store shows up as negative instead of as 16 EiB.
 */
export async function readBlobBytes(kv: Deno.Kv): Promise<number> {
  const entry = await retry(() => kv.get<Deno.KvU64>(keys.blobBytes()));
  return Number(BigInt.asIntN(64, entry.value?.value ?? 0n));
}

/**
 * Sets `["blob_bytes"]` to the bytes actually in chunks, by listing every chunk (it reads every
 * value once, so it belongs in an import or a repair, not a request). Import calls it because an
 * export taken while the server runs may hold a counter that is older than the chunks after it.
 * Uploads running meanwhile could be missed, so run it with no server writing.
 */
export async function recountBlobBytes(kv: Deno.Kv): Promise<number> {
  let bytes = 0n;
  for await (
    const e of kv.list<Uint8Array>({ prefix: keys.blobChunksOf("").slice(0, 1) }, {
      batchSize: 100,
    })
  ) bytes += BigInt(e.value.byteLength);
  await retry(() => kv.set(keys.blobBytes(), new Deno.KvU64(bytes)));
  return Number(bytes);
}
