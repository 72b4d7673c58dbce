/**
 * Token buckets shared by every isolate, as KV holds them: one record per limit and subject,
 * taken from in blocks by an atomic check-and-set (see `SharedRateLimiter` in
 * chat/ratelimit.ts), so a limit holds for the whole server without a commit per request.
 * @module
 */
import { keys } from "./keys.ts";
import { getMany, retry } from "./kv.ts";

/** A bucket as stored: its tokens when last taken from, and when that was (ms). */
export interface BucketRecord {
  tokens: number;
  at: number;
}

/**
 * Takes up to `want` whole tokens from a shared bucket (a burst of `capacity`, refilled at
 * `perSecond`). Returns how many were granted and, when none, the milliseconds until one is.
 * A refusal writes nothing.
 */
export function takeTokens(
  kv: Deno.Kv,
  name: string,
  subject: string,
  capacity: number,
  perSecond: number,
  want: number,
): Promise<{ granted: number; waitMs: number }> {
  return takerOf(kv).take(name, subject, capacity, perSecond, want);
}

/** What one take computes from a bucket as read: the grant, or the wait; and the new record. */
function plan(
  b: BucketRecord | null,
  now: number,
  capacity: number,
  perSecond: number,
  want: number,
): { granted: number; waitMs: number; record?: BucketRecord; expireIn?: number } {
  // A clock behind the last writer's (another machine) refills nothing rather than less.
  const tokens = b
    ? Math.min(capacity, b.tokens + (Math.max(0, now - b.at) / 1000) * perSecond)
    : capacity;
  const granted = Math.min(want, Math.floor(tokens));
  if (granted < 1) return { granted: 0, waitMs: Math.ceil(((1 - tokens) / perSecond) * 1000) };
  const left = tokens - granted;
  // Once it would be full again, the record says nothing a missing one does not.
  const expireIn = Math.ceil(((capacity - left) / perSecond) * 1000) + 1000;
  return { granted, waitMs: 0, record: { tokens: left, at: now }, expireIn };
}

interface TakeRequest {
  key: Deno.KvKey;
  id: string;
  capacity: number;
  perSecond: number;
  want: number;
  resolve: (r: { granted: number; waitMs: number }) => void;
  reject: (err: unknown) => void;
}

/** Takes per commit: two operations each, within KV's 100 checks and 1,000 mutations. */
const MAX_TAKES = 50;

const takers = new WeakMap<Deno.Kv, GroupTaker>();

function takerOf(kv: Deno.Kv): GroupTaker {
  let t = takers.get(kv);
  if (!t) takers.set(kv, t = new GroupTaker(kv));
  return t;
}

/**
 * Group commit for bucket takes. Every lease is a KV commit, and on a KV file every commit
 * waits for the disk (one fsync each, 5–20 ms on the shared test machine): with a thousand
 * senders at 1–2 messages a second, a lease per user every 10 sends came to a hundred or more
 * commits a second beside the messages' own, and they queued behind each other on KV's one
 * writer. So takes that arrive while a commit is in flight wait and go together in the next
 * one: one read of all their buckets, one atomic check-and-set over all of them. When another
 * writer changed one of them in between, the whole group is read and planned again.
 */
export class GroupTaker {
  #queue: TakeRequest[] = [];
  #running = false;
  /** Commits made (for tests: takes arriving together share one). */
  commits = 0;

  constructor(private kv: Deno.Kv) {}

  take(
    name: string,
    subject: string,
    capacity: number,
    perSecond: number,
    want: number,
  ): Promise<{ granted: number; waitMs: number }> {
    const key = keys.limit(name, subject);
    return new Promise((resolve, reject) => {
      this.#queue.push({
        key,
        id: name + "\u0000" + subject,
        capacity,
        perSecond,
        want,
        resolve,
        reject,
      });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#running || this.#queue.length === 0) return;
    this.#running = true;
    // After the current task: takes made in one synchronous run share the commit.
    queueMicrotask(() => this.#run());
  }

  async #run(): Promise<void> {
    try {
      while (this.#queue.length) await this.#commit(this.#takeBatch());
    } finally {
      this.#running = false;
      this.#kick();
    }
  }

  /** Up to MAX_TAKES takes of distinct buckets, in arrival order; a repeat waits its turn. */
  #takeBatch(): TakeRequest[] {
    const batch: TakeRequest[] = [];
    const rest: TakeRequest[] = [];
    const ids = new Set<string>();
    for (const r of this.#queue) {
      if (batch.length < MAX_TAKES && !ids.has(r.id)) {
        ids.add(r.id);
        batch.push(r);
      } else rest.push(r);
    }
    this.#queue = rest;
    return batch;
  }

  async #commit(batch: TakeRequest[]): Promise<void> {
    try {
      for (;;) {
        const cur = await getMany<BucketRecord>(this.kv, batch.map((r) => r.key));
        const now = Date.now();
        let op = this.kv.atomic();
        let writes = 0;
        const plans = batch.map((r, i) => {
          const p = plan(cur[i].value, now, r.capacity, r.perSecond, r.want);
          if (p.record) {
            op = op.check(cur[i]).set(r.key, p.record, { expireIn: p.expireIn });
            writes++;
          }
          return p;
        });
        // A refusal writes nothing.
        const ok = writes === 0 || (await retry(() => op.commit())).ok;
        if (writes) this.commits++;
        if (!ok) continue; // another writer took from one of these buckets: read again
        batch.forEach((r, i) => r.resolve({ granted: plans[i].granted, waitMs: plans[i].waitMs }));
        return;
      }
    } catch (err) {
      for (const r of batch) r.reject(err);
    }
  }
}
