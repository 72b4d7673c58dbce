/**
 * The queue of `sync` requests: what the client asks the server for when it may have missed
 * messages (a reconnect, a seq gap, a conversation summary ahead of the thread). One request per
 * conversation at a time, a repeat asked for while one is out goes once it is answered, and at
 * most `SYNCS_IN_FLIGHT` out at once: a user in hundreds of conversations must not spend the
 * connection's frame budget (a burst of 1,000) in one go on reconnect. Browser compatible: the
 * transport and the position to sync from are passed in, so it runs under `deno test`.
 * @module
 */

/** Sync requests out at once. */
export const SYNCS_IN_FLIGHT = 8;

const REQ_PREFIX = "sync:";

/** The `reqId` a sync request for a conversation carries; errors echo it. */
export function syncReqId(convId: string): string {
  return REQ_PREFIX + convId;
}

/** The conversation a `reqId` names, when it is a sync request's. */
export function syncOf(reqId: string | undefined): string | null {
  return reqId?.startsWith(REQ_PREFIX) ? reqId.slice(REQ_PREFIX.length) : null;
}

export interface SyncOptions {
  /** Puts a sync request on the socket; false when it is not open. */
  send(convId: string, afterSeq: number, reqId: string): boolean;
  /** Where to sync from (the last seq held without holes, or known); undefined: not at all. */
  afterSeq(convId: string): number | undefined;
  limit?: number;
}

export class SyncQueue {
  #opts: SyncOptions;
  #limit: number;
  /** Asked on the current socket, not yet answered. */
  #out = new Set<string>();
  /** Waiting for a free slot, in the order asked. */
  #waiting = new Set<string>();
  /** Asked again while out: to go once the answer is in. */
  #again = new Set<string>();

  constructor(opts: SyncOptions) {
    this.#opts = opts;
    this.#limit = opts.limit ?? SYNCS_IN_FLIGHT;
  }

  /** How many requests are out. */
  get inFlight(): number {
    return this.#out.size;
  }

  /** Asks for what follows what the client holds of a conversation, now or when a slot frees. */
  request(convId: string): void {
    if (this.#out.has(convId)) {
      this.#again.add(convId);
      return;
    }
    if (this.#out.size >= this.#limit) {
      this.#waiting.add(convId);
      return;
    }
    const afterSeq = this.#opts.afterSeq(convId);
    if (afterSeq === undefined) return;
    if (this.#opts.send(convId, afterSeq, syncReqId(convId))) this.#out.add(convId);
  }

  /** A request was answered (or refused): the next waiting ones may go. */
  done(convId: string): void {
    this.#out.delete(convId);
    for (const next of this.#waiting) {
      if (this.#out.size >= this.#limit) break;
      this.#waiting.delete(next);
      this.request(next);
    }
  }

  /** Whether the conversation was asked for again while its request was out (and forgets it:
   * the caller now asks). */
  takeAgain(convId: string): boolean {
    return this.#again.delete(convId);
  }

  /** A new socket is ready: answers to the old one's requests will never come, so every sync
   * starts afresh. */
  reset(): void {
    this.#out.clear();
    this.#waiting.clear();
    this.#again.clear();
  }
}
