/**
 * The draining state of one isolate: from the moment a shutdown begins, `/ready` answers 503,
 * new WebSocket upgrades are refused and new client frames are left unanswered (the client
 * sends them again after it reconnects: `send` ids make that safe), while sends already being
 * committed finish and are acked. Then the sockets close with 1001.
 * @module
 */
export class Drain {
  /** True from the start of a shutdown on; never false again. */
  draining = false;
  /** `send` frames accepted and not yet answered. */
  inflight = 0;
  #waiters: (() => void)[] = [];

  /** Marks the start of a send's commit; call `done()` once it is answered. */
  begin(): void {
    this.inflight++;
  }

  /** Marks a send answered (acked or refused). */
  done(): void {
    this.inflight--;
    if (this.inflight === 0 && this.#waiters.length) {
      for (const w of this.#waiters.splice(0)) w();
    }
  }

  /**
   * Starts draining and resolves once every accepted send is answered, or after `maxMs`.
   * @returns whether every send was answered in time.
   */
  async start(maxMs: number): Promise<boolean> {
    this.draining = true;
    if (this.inflight === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settled = await Promise.race([
      new Promise<boolean>((resolve) => this.#waiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), maxMs)),
    ]);
    clearTimeout(timer);
    return settled;
  }
}
