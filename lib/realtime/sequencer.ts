/**
 * Delivers an ordered stream exactly once and in order, whatever path its items arrive by:
 * a local commit, BroadcastChannel (fast, may lose or reorder), or a KV watch saying "the head
 * is now N" (reliable, but only the latest value). Gaps are filled by reading KV.
 * @module
 */
import { log } from "../log.ts";

export interface Sequenced {
  seq: number;
}

export class Sequencer<T extends Sequenced> {
  #delivered: number | null = null;
  #waiting = new Map<number, T>();
  #target = 0;
  #busy = false;
  #stopped = false;

  constructor(
    private fetch: (after: number, upTo: number) => Promise<T[]>,
    private deliver: (item: T) => void,
  ) {}

  /** Where delivery starts: items at or below `seq` are taken as already delivered. */
  start(seq: number): void {
    this.#delivered = seq;
    this.#kick();
  }

  get delivered(): number | null {
    return this.#delivered;
  }

  /** An item arrived by a fast path. */
  offer(item: T): void {
    const d = this.#delivered;
    if (d !== null && item.seq <= d) return;
    if (d !== null && !this.#busy && item.seq === d + 1) {
      this.#emit(item);
      this.#drainWaiting();
      return;
    }
    this.#waiting.set(item.seq, item);
    if (item.seq > this.#target) this.#target = item.seq;
    this.#kick();
  }

  /** The reliable path says items up to `seq` exist. */
  hint(seq: number): void {
    if (seq > this.#target) this.#target = seq;
    this.#kick();
  }

  stop(): void {
    this.#stopped = true;
    this.#waiting.clear();
  }

  #emit(item: T): void {
    this.#delivered = item.seq;
    try {
      this.deliver(item);
    } catch (err) {
      log.error("delivery failed", { error: String(err) });
    }
  }

  #drainWaiting(): void {
    for (;;) {
      const next = this.#waiting.get(this.#delivered! + 1);
      if (!next) break;
      this.#waiting.delete(next.seq);
      this.#emit(next);
    }
  }

  async #kick(): Promise<void> {
    if (this.#busy || this.#delivered === null || this.#stopped) return;
    this.#busy = true;
    try {
      for (;;) {
        this.#drainWaiting();
        for (const seq of this.#waiting.keys()) {
          if (seq <= this.#delivered!) this.#waiting.delete(seq);
        }
        if (this.#target <= this.#delivered! || this.#stopped) break;
        const from: number = this.#delivered!;
        const items = await this.fetch(from, this.#target);
        for (const item of items) if (item.seq === this.#delivered! + 1) this.#emit(item);
        if (this.#delivered === from) {
          // KV did not have what the fast path promised yet: let the watch tell us again.
          break;
        }
      }
    } catch (err) {
      log.warn("catch-up read failed; retrying", { error: String(err) });
      setTimeout(() => this.#kick(), 250);
    } finally {
      this.#busy = false;
    }
  }
}
