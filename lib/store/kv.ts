/**
 * Opening KV and committing to it safely. Two isolates writing one local KV file contend for
 * SQLite's lock and a commit can throw "database is locked"; re-running the same atomic
 * operation is safe, so every write goes through `retry`.
 * @module
 */
import { hot } from "../metrics_hot.ts";
import { keys } from "./keys.ts";

/** Opens the store at a path, `:memory:`, or a remote URL. The caller owns the handle. */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (path === "") return await Deno.openKv();
  if (path !== ":memory:" && !/^https?:\/\//.test(path)) {
    const dir = path.replace(/[\\/][^\\/]*$/, "");
    if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true });
  }
  // Two isolates opening a new file at the same moment race to create its tables.
  return await retryStartup(() => Deno.openKv(path));
}

/**
 * Runs an idempotent start-up step again while another isolate starting at the same moment
 * holds SQLite's lock (a loaded machine can hold it past `retry`'s ~2 s), for up to `budgetMs`.
 * A start-up error ends the process, and under `deno serve --parallel` every isolate with it.
 */
export async function retryStartup<T>(fn: () => Promise<T>, budgetMs = 30_000): Promise<T> {
  const end = Date.now() + budgetMs;
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || Date.now() >= end) throw err;
      await new Promise((r) => setTimeout(r, Math.min(250, 10 + attempt * 20 * Math.random())));
    }
  }
}

/**
 * Readiness: one read of a key nobody writes, so it reaches the store without touching data.
 * @throws whatever the store throws when it is not reachable.
 */
export async function probe(kv: Deno.Kv): Promise<void> {
  await kv.get(keys.readyProbe());
}

/** A lock error that running the same operation again may get past. */
export function isTransient(err: unknown): boolean {
  const text = String((err as Error)?.message ?? err);
  return /database is locked|SQLITE_BUSY|busy/i.test(text);
}

/** True for what `AtomicOperation.commit()` returns (a read returns an entry instead). */
function isCommitResult(res: unknown): boolean {
  return typeof res === "object" && res !== null && "ok" in res;
}

/**
 * Runs `fn` again while it fails with a transient lock error (up to ~2 s in all). Counts the
 * retries, and times commits (retries included) for `/metrics`, without allocating.
 * @example
 * const res = await retry(() => kv.atomic().check(x).set(k, v).commit());
 */
export async function retry<T>(fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  for (let attempt = 0;; attempt++) {
    try {
      const res = await fn();
      if (isCommitResult(res)) hot.kvCommit.observe((performance.now() - t0) / 1000);
      else hot.kvReads++;
      return res;
    } catch (err) {
      if (!isTransient(err) || attempt >= 30) throw err;
      hot.kvRetries++;
      await new Promise((r) => setTimeout(r, Math.min(100, 2 + attempt * 5 * Math.random())));
    }
  }
}

/** Reads many keys, 10 at a time (KV's getMany limit), in parallel. */
export async function getMany<T>(
  kv: Deno.Kv,
  keyList: readonly Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<T>[]> {
  const chunks: Promise<Deno.KvEntryMaybe<T>[]>[] = [];
  for (let i = 0; i < keyList.length; i += 10) {
    chunks.push(retry(() => kv.getMany<T[]>(keyList.slice(i, i + 10) as Deno.KvKey[])));
  }
  return (await Promise.all(chunks)).flat();
}

/** Collects a list query into an array. */
export async function listAll<T>(
  kv: Deno.Kv,
  selector: Deno.KvListSelector,
  options: Deno.KvListOptions = {},
): Promise<Deno.KvEntry<T>[]> {
  return await retry(async () => {
    const out: Deno.KvEntry<T>[] = [];
    for await (const entry of kv.list<T>(selector, options)) out.push(entry);
    return out;
  });
}

/** A plain write for `WriteBatcher`: a set (with an optional expiry), or a delete. */
type PlainWrite = { key: Deno.KvKey; value: unknown; expireIn?: number } | {
  key: Deno.KvKey;
  delete: true;
};

/** Writes per commit: within KV's 1,000 mutations and 800 KB (these values are small). */
const MAX_PLAIN_WRITES = 500;

/**
 * Group commit for plain writes, the ones without a check (a socket count, an online mark):
 * every commit on a KV file waits for the disk (one fsync each), and a crowd reconnecting after
 * a restart made two such commits per socket, one after the other on KV's one writer. Writes
 * that arrive while a commit is in flight go together in the next one; each caller still
 * resolves only once its write is committed. A key written twice in one group keeps the later
 * write (what writing them one after the other would leave).
 */
export class WriteBatcher {
  #queue: { w: PlainWrite; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #running = false;
  /** Commits made (for tests). */
  commits = 0;

  constructor(private kv: Deno.Kv) {}

  /** Sets `key` in the next group commit. */
  set(key: Deno.KvKey, value: unknown, options: { expireIn?: number } = {}): Promise<void> {
    return this.#push({ key, value, expireIn: options.expireIn });
  }

  /** Deletes `key` in the next group commit. */
  delete(key: Deno.KvKey): Promise<void> {
    return this.#push({ key, delete: true });
  }

  #push(w: PlainWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ w, resolve, reject });
      if (this.#running) return;
      this.#running = true;
      // After the current task: writes made in one synchronous run share the commit.
      queueMicrotask(() => this.#run());
    });
  }

  async #run(): Promise<void> {
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, MAX_PLAIN_WRITES);
      const last = new Map<string, PlainWrite>();
      for (const { w } of batch) {
        const id = JSON.stringify(w.key, (_, v) => typeof v === "bigint" ? `${v}n` : v);
        last.delete(id); // re-inserted: the later write, in the later place
        last.set(id, w);
      }
      try {
        let op = this.kv.atomic();
        for (const w of last.values()) {
          op = "delete" in w ? op.delete(w.key) : op.set(w.key, w.value, { expireIn: w.expireIn });
        }
        await retry(() => op.commit());
        this.commits++;
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.#running = false;
  }
}

const writeBatchers = new WeakMap<Deno.Kv, WriteBatcher>();

/** The write batcher of a KV handle (one per handle, so all its plain writes group). */
export function writeBatcher(kv: Deno.Kv): WriteBatcher {
  let b = writeBatchers.get(kv);
  if (!b) writeBatchers.set(kv, b = new WriteBatcher(kv));
  return b;
}
