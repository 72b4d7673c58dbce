/**
 * Watching KV keys, the reliable path between isolates: `kv.watch` on small head keys tells
 * every isolate of a change even when BroadcastChannel loses it. A watch call takes at most 10
 * keys, so watched keys are kept in buckets, each its own watch stream, rebuilt when its keys
 * change.
 * @module
 */
import { log } from "../log.ts";
import { keys } from "./keys.ts";
import type { Head } from "./records.ts";

/** KV's limit of keys per watch call. */
const MAX_BUCKET = 10;
/** Changes to the watched set are applied together after this pause, so a burst of
 * connections restarts each watch stream once rather than once per key. */
const SETTLE_MS = 25;

interface Bucket {
  ids: Set<string>;
  reader: ReadableStreamDefaultReader<Deno.KvEntryMaybe<unknown>[]> | null;
  dirty: boolean;
}

/**
 * Watches one KV key per id (for example a conversation's head) and reports each change.
 *
 * `bucketSize` keys share one watch stream. Every change of any of them makes KV read (and
 * this isolate deserialize) all keys of the stream again, on KV's writer thread, so busy keys
 * (conversation heads: one change per commit) are best watched one per stream; a stream costs
 * little while nothing changes.
 * @example
 * const w = new KeyWatcher(kv, (id) => ["head", id], (id, value) => onHead(id, value));
 * w.add("conv-1");
 */
export class KeyWatcher<V> {
  #buckets = new Set<Bucket>();
  /** Buckets with room for another id. */
  #spare = new Set<Bucket>();
  #where = new Map<string, Bucket>();
  #dirty = new Set<Bucket>();
  #scheduled = false;
  #closed = false;
  #size: number;

  constructor(
    private kv: Deno.Kv,
    private keyOf: (id: string) => Deno.KvKey,
    private onChange: (id: string, value: V | null) => void,
    bucketSize = MAX_BUCKET,
  ) {
    this.#size = Math.max(1, Math.min(MAX_BUCKET, bucketSize));
  }

  add(id: string): void {
    if (this.#where.has(id) || this.#closed) return;
    let bucket: Bucket | undefined = this.#spare.values().next().value;
    if (!bucket) {
      bucket = { ids: new Set(), reader: null, dirty: false };
      this.#buckets.add(bucket);
      this.#spare.add(bucket);
    }
    bucket.ids.add(id);
    if (bucket.ids.size >= this.#size) this.#spare.delete(bucket);
    this.#where.set(id, bucket);
    this.#markDirty(bucket);
  }

  remove(id: string): void {
    const bucket = this.#where.get(id);
    if (!bucket) return;
    this.#where.delete(id);
    bucket.ids.delete(id);
    this.#spare.add(bucket);
    this.#markDirty(bucket);
  }

  has(id: string): boolean {
    return this.#where.has(id);
  }

  #markDirty(bucket: Bucket): void {
    bucket.dirty = true;
    this.#dirty.add(bucket);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      const dirty = [...this.#dirty];
      this.#dirty.clear();
      for (const b of dirty) {
        if (b.dirty) this.#restart(b);
        if (b.ids.size === 0) {
          this.#buckets.delete(b);
          this.#spare.delete(b);
        }
      }
    }, SETTLE_MS);
  }

  #restart(bucket: Bucket): void {
    bucket.dirty = false;
    bucket.reader?.cancel().catch(() => {});
    bucket.reader = null;
    if (bucket.ids.size === 0 || this.#closed) return;
    const ids = [...bucket.ids];
    const reader = this.kv.watch(ids.map(this.keyOf)).getReader();
    bucket.reader = reader;
    (async () => {
      try {
        for (;;) {
          const { value: entries, done } = await reader.read();
          if (done || bucket.reader !== reader) break;
          entries.forEach((e, i) => this.onChange(ids[i], e.value as V | null));
        }
      } catch (err) {
        if (bucket.reader === reader && !this.#closed) {
          log.warn("kv watch ended; restarting", { error: String(err) });
          setTimeout(() => this.#markDirty(bucket), 500);
        }
      }
    })();
  }

  close(): void {
    this.#closed = true;
    for (const b of this.#buckets) {
      b.reader?.cancel().catch(() => {});
      b.reader = null;
    }
    this.#buckets.clear();
    this.#spare.clear();
    this.#dirty.clear();
    this.#where.clear();
  }
}

/**
 * Watches conversation heads, one per stream: a head changes on every commit of its
 * conversation, and a shared stream would read and deserialize all its heads each time.
 */
export function watchHeads(
  kv: Deno.Kv,
  onChange: (convId: string, head: Head | null) => void,
): KeyWatcher<Head> {
  return new KeyWatcher<Head>(kv, keys.head, onChange, 1);
}

/** Watches the event log's head (add the id "events" to start). */
export function watchEventsHead(
  kv: Deno.Kv,
  onChange: (head: number | null) => void,
): KeyWatcher<number> {
  return new KeyWatcher<number>(kv, () => keys.eventsHead(), (_, head) => onChange(head));
}
