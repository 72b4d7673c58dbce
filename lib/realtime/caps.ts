/**
 * Caps on open sockets per user and per client address that hold across isolates. Each isolate
 * counts its own sockets exactly in memory and publishes the count per subject to KV
 * (store/sockets.ts) with an expiry it refreshes, so a crashed isolate's sockets stop counting
 * within the expiry. A new socket is admitted when, after its isolate's count is written, the
 * total over every isolate is within the cap; otherwise it takes its count back and is closed
 * with 4003. Writing before reading means two sockets racing for the last place on two
 * isolates may both be refused, never both admitted.
 * @module
 */
import { log } from "../log.ts";
import {
  refreshSocketCounts,
  type SocketScope,
  socketsElsewhere,
  writeSocketCount,
} from "../store/sockets.ts";

/** How long a published count lives without a refresh. */
export const SOCKET_COUNT_TTL_MS = 90_000;

export interface CapLimits {
  /** Sockets one user may hold open (0: no cap). */
  perUser: number;
  /** Sockets one client address may hold open (0: no cap). */
  perAddress: number;
}

export class SocketCaps {
  /** scope + "\0" + subject → sockets this isolate holds. */
  #local = new Map<string, number>();
  /** Writes per subject run one after another, each writing the count current when it runs. */
  #chains = new Map<string, Promise<void>>();
  /** Set by `forget` on shutdown: the sockets closing then are not counted down one by one. */
  #stopped = false;

  constructor(private kv: Deno.Kv, private isolateId: string, private limits: CapLimits) {}

  /**
   * Counts a new socket; false (and nothing counted) when it would exceed a cap.
   * @param addr the client address as the throttles count it, or null when unknown
   */
  async admit(userId: string, addr: string | null): Promise<boolean> {
    const taken: [SocketScope, string][] = [];
    const wanted: [SocketScope, string, number][] = [];
    if (this.limits.perUser > 0) wanted.push(["user", userId, this.limits.perUser]);
    if (this.limits.perAddress > 0 && addr) wanted.push(["addr", addr, this.limits.perAddress]);
    try {
      for (const [scope, subject, cap] of wanted) {
        const mine = this.#add(scope, subject, 1);
        taken.push([scope, subject]);
        // Over the cap here alone: no need to ask the others.
        if (mine > cap) return this.#giveBack(taken);
        await this.#write(scope, subject);
        const total = this.#count(scope, subject) +
          await socketsElsewhere(this.kv, scope, subject, this.isolateId);
        if (total > cap) return this.#giveBack(taken);
      }
      return true;
    } catch (err) {
      this.#giveBack(taken);
      throw err;
    }
  }

  /** Uncounts a socket that `admit` counted. */
  release(userId: string, addr: string | null): void {
    if (this.#stopped) return;
    if (this.limits.perUser > 0) this.#release("user", userId);
    if (this.limits.perAddress > 0 && addr) this.#release("addr", addr);
  }

  /** Publishes every count again with a fresh expiry (called periodically). */
  refresh(): Promise<void> {
    return refreshSocketCounts(this.kv, this.isolateId, this.#entries(), SOCKET_COUNT_TTL_MS);
  }

  /** Withdraws every count of this isolate (on shutdown). */
  async forget(): Promise<void> {
    this.#stopped = true;
    const all = this.#entries().map((e) => ({ ...e, count: 0 }));
    this.#local.clear();
    await refreshSocketCounts(this.kv, this.isolateId, all, SOCKET_COUNT_TTL_MS);
  }

  #entries() {
    return [...this.#local].map(([k, count]) => {
      const i = k.indexOf("\u0000");
      return { scope: k.slice(0, i) as SocketScope, subject: k.slice(i + 1), count };
    });
  }

  #count(scope: SocketScope, subject: string): number {
    return this.#local.get(scope + "\u0000" + subject) ?? 0;
  }

  #add(scope: SocketScope, subject: string, delta: number): number {
    const k = scope + "\u0000" + subject;
    const n = (this.#local.get(k) ?? 0) + delta;
    if (n > 0) this.#local.set(k, n);
    else this.#local.delete(k);
    return Math.max(0, n);
  }

  #giveBack(taken: [SocketScope, string][]): false {
    for (const [scope, subject] of taken) this.#release(scope, subject);
    return false;
  }

  #release(scope: SocketScope, subject: string): void {
    this.#add(scope, subject, -1);
    this.#write(scope, subject).catch((err) =>
      log.warn("socket count write failed", { error: String(err) })
    );
  }

  /** Writes a subject's current count after any write of it already under way. */
  #write(scope: SocketScope, subject: string): Promise<void> {
    const k = scope + "\u0000" + subject;
    const run = (this.#chains.get(k) ?? Promise.resolve()).catch(() => {}).then(() =>
      writeSocketCount(
        this.kv,
        scope,
        subject,
        this.isolateId,
        this.#count(scope, subject),
        SOCKET_COUNT_TTL_MS,
      )
    );
    this.#chains.set(k, run);
    run.finally(() => {
      if (this.#chains.get(k) === run) this.#chains.delete(k);
    }).catch(() => {});
    return run;
  }
}
