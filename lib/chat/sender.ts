/**
 * Group commit for sends: while one commit is in flight, the sends that arrive queue up and go
 * together in the next atomic commit, across conversations, each conversation still under
 * gapless sequence numbers. The isolate remembers each conversation's head from its own last
 * commit, so a send costs no head read unless another isolate wrote in between.
 * @module
 */
import { notFound } from "../errors.ts";
import { blockedError, SEND_BLOCKED } from "./blocking.ts";
import { type Draft, type Head, type IdemRecord } from "../store/messages.ts";
import { commitGroups, type GuardCache, type MemberCache } from "../store/commit.ts";
import { INBOX_MAX_MEMBERS, inboxMutations } from "../store/inbox.ts";
import { hot } from "../metrics_hot.ts";
import type { Message } from "../protocol.ts";

export type SendOutcome = { stored: Message } | { existing: IdemRecord };

interface Pending {
  convId: string;
  draft: Draft;
  resolve: (o: SendOutcome) => void;
  reject: (e: unknown) => void;
  bytes: number;
}

/** One commit holds at most 100 checks (one per message, one per conversation, one per sender
 * and conversation) and 800 KB. */
const MAX_CHECKS = 96;
const MAX_BATCH_BYTES = 360 * 1024;
/** KV takes at most 1000 mutations per commit: a message writes 2 (itself, its idempotency
 * entry) plus one per member it mentions, plus a cursor per sender and a head. */
const MAX_MUTATIONS = 900;
const HEAD_CACHE = 10_000;
const MEMBER_CACHE = 50_000;
/**
 * Commit pacing: a commit starts at most every PACE_MS. An isolate that has not committed for
 * that long commits at once (no added latency when quiet); under load the sends of the next
 * PACE_MS share one commit. A KV commit costs far more per commit than per message (SQLite
 * transaction, WAL frames, locks: ~200–400 µs against ~20–30 µs per extra message), and sends
 * arrive one socket message at a time, so without pacing most commits carried one message.
 */
export const PACE_MS = 2;

/**
 * What a commit outside the batcher that writes a conversation's head (a change) asks of it:
 * `hold` keeps the batcher's commits off the conversation from now on and resolves once none of
 * its commits touching it is in flight; `release` lets them back, with the head just written.
 * Both sides take the head's next seq, so without this they failed each other's head checks
 * and went again (docs/benchmarks.md, "Issue 11: changes in the fan-out").
 */
export interface HeadLane {
  hold(convId: string): Promise<void>;
  release(convId: string, head?: Deno.KvEntry<Head>): void;
}

export class SendBatcher implements HeadLane {
  #queue: Pending[] = [];
  #running = false;
  /** Conversations held by commits outside the batcher, with how many hold each. */
  #held = new Map<string, number>();
  /** The conversations of the commit in flight, and when it settles. */
  #inFlight: { convs: Set<string>; done: Promise<void> } | null = null;
  #scheduled = false;
  #lastStart = -Infinity;
  #heads = new Map<string, Deno.KvEntry<Head>>();
  /** Senders' member entries as the last commits checked them (see `commitGroups`). */
  #members: MemberCache = new Map();
  /** Direct peers' block entries as the last commits checked them (see `Draft.absent`). */
  #guards: GuardCache = new Map();

  /** @param onStored called once per conversation with the messages just stored, before any
   * sender hears its ack. */
  constructor(
    private kv: Deno.Kv,
    private onStored: (convId: string, msgs: Message[]) => void,
  ) {}

  /** Queues a draft for the next commit. */
  submit(convId: string, draft: Draft): Promise<SendOutcome> {
    return new Promise((resolve, reject) => {
      // A message is stored as UTF-8 twice at most (the message and the head's copy).
      const bytes = draft.body.length * 6 + 600;
      this.#queue.push({ convId, draft, resolve, reject, bytes });
      this.#schedule();
    });
  }

  hold(convId: string): Promise<void> {
    this.#held.set(convId, (this.#held.get(convId) ?? 0) + 1);
    const f = this.#inFlight;
    return f && f.convs.has(convId) ? f.done : Promise.resolve();
  }

  release(convId: string, head?: Deno.KvEntry<Head>): void {
    if (head) this.#rememberHead(convId, head);
    const n = (this.#held.get(convId) ?? 1) - 1;
    if (n > 0) this.#held.set(convId, n);
    else this.#held.delete(convId);
    this.#schedule();
  }

  /** Whether a queued send may go in the next commit (its conversation is not held). */
  #ready(): boolean {
    if (this.#held.size === 0) return this.#queue.length > 0;
    return this.#queue.some((p) => !this.#held.has(p.convId));
  }

  #schedule(): void {
    if (this.#running || this.#scheduled || !this.#ready()) return;
    this.#scheduled = true;
    const wait = this.#lastStart + PACE_MS - performance.now();
    // Even when quiet, wait for a microtask: sends submitted in one synchronous run share a commit.
    if (wait <= 0) queueMicrotask(() => this.#run());
    else setTimeout(() => this.#run(), wait);
  }

  async #run(): Promise<void> {
    this.#scheduled = false;
    this.#running = true;
    let settle = () => {};
    try {
      this.#lastStart = performance.now();
      const batch = this.#take();
      const done = new Promise<void>((r) => settle = r);
      this.#inFlight = { convs: new Set(batch.keys()), done };
      await this.#commit(batch);
    } finally {
      this.#inFlight = null;
      settle();
      this.#running = false;
      this.#schedule();
    }
  }

  /** Takes the longest prefix of the queue that fits in one commit, passing over held
   * conversations (their sends wait in order); FIFO per conversation. */
  #take(): Map<string, Map<string, Pending[]>> {
    const batch = new Map<string, Map<string, Pending[]>>();
    const senders = new Map<string, Set<string>>();
    let checks = 0, bytes = 0, taken = 0, mutations = 0;
    const rest: Pending[] = [];
    let full = false;
    for (const p of this.#queue) {
      if (full || this.#held.has(p.convId)) {
        rest.push(p);
        continue;
      }
      let conv = batch.get(p.convId);
      const same = conv?.get(p.draft.id);
      const newSender = !same && !senders.get(p.convId)?.has(p.draft.senderId);
      // Checks: a message's idempotency entry, a conversation's head, per sender and
      // conversation its member entry and, in a direct one, the peer's block entry.
      const cost = same ? 0 : (conv ? 1 : 2) + (newSender ? (p.draft.absent ? 2 : 1) : 0);
      // Per message its value and idempotency entry and its mentions, per sender a
      // cursor, per conversation its head and the list index moves (as the cached head lists
      // them; unknown: the most).
      const writes = same ? 0 : 2 + (p.draft.mentions?.length ?? 0) + (newSender ? 1 : 0) +
        (conv ? 0 : 1 + this.#indexWrites(p.convId));
      if (
        taken > 0 &&
        (checks + cost > MAX_CHECKS || bytes + p.bytes > MAX_BATCH_BYTES ||
          mutations + writes > MAX_MUTATIONS)
      ) {
        full = true;
        rest.push(p);
        continue;
      }
      if (!conv) batch.set(p.convId, conv = new Map());
      if (newSender) {
        const s = senders.get(p.convId) ?? new Set<string>();
        senders.set(p.convId, s.add(p.draft.senderId));
      }
      if (same) same.push(p); // the same id twice: one message, one answer for both
      else conv.set(p.draft.id, [p]);
      checks += cost;
      mutations += writes;
      bytes += p.bytes;
      taken++;
    }
    this.#queue = rest;
    return batch;
  }

  #indexWrites(convId: string): number {
    const head = this.#heads.get(convId);
    return head ? inboxMutations(head.value) : 2 * INBOX_MAX_MEMBERS;
  }

  async #commit(batch: Map<string, Map<string, Pending[]>>): Promise<void> {
    const groups = [...batch].map(([convId, byId]) => ({
      convId,
      drafts: [...byId.values()].map((ps) => ps[0].draft),
    }));
    try {
      const known = new Map<string, Deno.KvEntry<Head>>();
      for (const g of groups) {
        const h = this.#heads.get(g.convId);
        if (h) known.set(g.convId, h);
      }
      const results = await commitGroups(this.kv, groups, known, this.#members, this.#guards);
      for (const cache of [this.#members, this.#guards]) {
        while (cache.size > MEMBER_CACHE) cache.delete(cache.keys().next().value!);
      }
      results.forEach((res, i) => {
        const { convId } = groups[i];
        const byId = batch.get(convId)!;
        this.#rememberHead(convId, res.head);
        hot.messagesStored += res.stored.length;
        if (res.stored.length) this.onStored(convId, res.stored);
        for (const m of res.stored) for (const p of byId.get(m.id)!) p.resolve({ stored: m });
        for (const [id, rec] of res.existing) {
          for (const p of byId.get(id) ?? []) p.resolve({ existing: rec });
        }
        for (const d of res.refused) {
          for (const p of byId.get(d.id) ?? []) p.reject(notFound());
        }
        for (const d of res.blocked) {
          for (const p of byId.get(d.id) ?? []) p.reject(blockedError(SEND_BLOCKED));
        }
      });
    } catch (err) {
      for (const g of groups) this.#heads.delete(g.convId);
      for (const byId of batch.values()) {
        for (const ps of byId.values()) for (const p of ps) p.reject(err);
      }
    }
  }

  /**
   * A head written by a commit outside the batcher (an attachment message): remembered, so the
   * next text send in that conversation does not fail its head check and read it again.
   */
  noteHead(convId: string, head: Deno.KvEntry<Head>): void {
    this.#rememberHead(convId, head);
  }

  #rememberHead(convId: string, head: Deno.KvEntry<Head>): void {
    this.#heads.delete(convId);
    this.#heads.set(convId, head);
    if (this.#heads.size > HEAD_CACHE) this.#heads.delete(this.#heads.keys().next().value!);
  }
}
