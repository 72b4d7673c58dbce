/**
 * Group commit for sends: while one commit of a conversation is in flight, the sends that
 * arrive queue up and go together in the next atomic commit, still under gapless sequence
 * numbers. The isolate remembers each conversation's head from its own last commit, so a send
 * costs no head read unless another isolate wrote in between.
 * @module
 */
import { commitMessages, type Draft, type Head, type IdemRecord } from "../store/messages.ts";
import type { Message } from "../protocol.ts";

export type SendOutcome = { stored: Message } | { existing: IdemRecord };

interface Pending {
  draft: Draft;
  origin: string | null;
  resolve: (o: SendOutcome) => void;
  reject: (e: unknown) => void;
  bytes: number;
}

const MAX_BATCH = 48;
const MAX_BATCH_BYTES = 400 * 1024;
const HEAD_CACHE = 10_000;

export class SendBatcher {
  #queues = new Map<string, Pending[]>();
  #running = new Set<string>();
  #heads = new Map<string, Deno.KvEntry<Head>>();

  constructor(
    private kv: Deno.Kv,
    private onStored: (convId: string, msgs: Message[], origins: (string | null)[]) => void,
  ) {}

  /** Queues a draft for its conversation's next commit. */
  submit(convId: string, draft: Draft, origin: string | null): Promise<SendOutcome> {
    return new Promise((resolve, reject) => {
      let q = this.#queues.get(convId);
      if (!q) this.#queues.set(convId, q = []);
      q.push({ draft, origin, resolve, reject, bytes: draft.body.length * 3 + 200 });
      if (!this.#running.has(convId)) this.#run(convId);
    });
  }

  async #run(convId: string): Promise<void> {
    this.#running.add(convId);
    try {
      for (;;) {
        const q = this.#queues.get(convId);
        if (!q || q.length === 0) {
          this.#queues.delete(convId);
          return;
        }
        const batch: Pending[] = [];
        const byId = new Map<string, Pending[]>();
        let bytes = 0;
        while (
          q.length && batch.length < MAX_BATCH &&
          (bytes + q[0].bytes <= MAX_BATCH_BYTES || !batch.length)
        ) {
          const p = q.shift()!;
          const same = byId.get(p.draft.id);
          if (same) {
            same.push(p); // the same id twice in one batch: one message, one answer for both
            continue;
          }
          byId.set(p.draft.id, [p]);
          batch.push(p);
          bytes += p.bytes;
        }
        await this.#commit(convId, batch, byId);
      }
    } finally {
      this.#running.delete(convId);
    }
  }

  async #commit(convId: string, batch: Pending[], byId: Map<string, Pending[]>): Promise<void> {
    try {
      const res = await commitMessages(
        this.kv,
        convId,
        batch.map((p) => p.draft),
        this.#heads.get(convId),
      );
      this.#rememberHead(convId, res.head);
      if (res.stored.length) {
        const origins = res.stored.map((m) => byId.get(m.id)![0].origin);
        this.onStored(convId, res.stored, origins);
      }
      for (const m of res.stored) for (const p of byId.get(m.id)!) p.resolve({ stored: m });
      for (const [id, rec] of res.existing) {
        for (const p of byId.get(id) ?? []) p.resolve({ existing: rec });
      }
    } catch (err) {
      this.#heads.delete(convId);
      for (const ps of byId.values()) for (const p of ps) p.reject(err);
    }
  }

  #rememberHead(convId: string, head: Deno.KvEntry<Head>): void {
    this.#heads.delete(convId);
    this.#heads.set(convId, head);
    if (this.#heads.size > HEAD_CACHE) this.#heads.delete(this.#heads.keys().next().value!);
  }
}
