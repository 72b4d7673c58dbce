/**
 * What this isolate knows of who blocks whom, for the frames that must not reach a blocked
 * user (the blocker's presence and typing). Those frames are sent synchronously in bulk, so
 * the lists are loaded ahead (`load`) and consulted without I/O (`hides`). An entry lives a
 * minute at most, and a `blocks_changed` event drops it at once on every isolate.
 * @module
 */
import { listBlocked } from "../store/blocks.ts";

/** How long a loaded list is trusted without an event saying it changed. */
const FRESH_MS = 60_000;
/** Lists kept before they are all dropped (a dropped one is only loaded again). */
const KEPT = 10_000;

export class BlockCache {
  #lists = new Map<string, { ids: Set<string>; at: number }>();

  constructor(private kv: Deno.Kv) {}

  /** Whether `blockerId`'s list is loaded and fresh. */
  ready(blockerId: string, now = Date.now()): boolean {
    const e = this.#lists.get(blockerId);
    return e !== undefined && now - e.at < FRESH_MS;
  }

  /** Loads a user's list unless it is fresh. */
  async load(blockerId: string): Promise<void> {
    if (this.ready(blockerId)) return;
    const ids = new Set(await listBlocked(this.kv, blockerId));
    if (this.#lists.size > KEPT) this.#lists.clear();
    this.#lists.set(blockerId, { ids, at: Date.now() });
  }

  /** Whether `viewerId` must not see `blockerId`'s presence or typing (as far as loaded). */
  hides(blockerId: string, viewerId: string): boolean {
    return this.#lists.get(blockerId)?.ids.has(viewerId) ?? false;
  }

  /** The list changed: the next use loads it again. */
  forget(blockerId: string): void {
    this.#lists.delete(blockerId);
  }
}
