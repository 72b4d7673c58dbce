/**
 * Write pacing for connections, adaptive. Every socket write costs the server a fixed ~10 µs
 * (op, frame, syscall; on loopback also the receiver's TCP work) whatever it carries, so under
 * fan-out load the number of writes, not of frames, is the limit. After a flush that wrote to N
 * sockets, the next one may wait up to N × FLUSH_GAP_PER_WRITE_MS (at most FLUSH_GAP_MAX_MS), so
 * that each socket gets one JSON array per gap carrying everything that arrived meanwhile.
 *
 * Waiting only pays when more frames would arrive meanwhile, so the share of that gap applied
 * is the larger of: (a) by rate: 0 when the busiest socket is expected to get at most one more
 * frame within the gap (the wait would save no write, only add latency), 1 from two on;
 * (b) by CPU: 0 while this process uses less than PACE_FROM of one core, 1 from PACE_FULL.
 * Moderate load goes out on the next turn; from ~2 frames per gap on it is the full gap.
 * Answers to a client's own requests (`Connection.reply`) do not wait for the gap.
 *
 * One scheduler paces every connection of the isolate (`defaultScheduler`); a test makes its
 * own with a clock, a timer and a CPU meter it drives by hand.
 * @module
 */
import process from "node:process";

export const FLUSH_GAP_PER_WRITE_MS = 0.02;
export const FLUSH_GAP_MAX_MS = 20;
const PACE_FROM = 0.6;
const PACE_FULL = 0.9;
const LOAD_SAMPLE_MS = 50;

/** Something with a queue to write: returns how many frames it wrote. */
export interface Writer {
  flush(): number;
}

/** What the scheduler reads time and load from, and how it waits. */
export interface SchedulerClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `fn` once after `ms`. */
  setTimer(fn: () => void, ms: number): void;
  /** CPU time this process used, in ms; null where it cannot be read (then the whole gap
   * always applies). */
  cpuTime: (() => number) | null;
}

function processCpuTime(): (() => number) | null {
  try {
    const usage = process.cpuUsage;
    usage();
    return () => {
      const u = usage();
      return (u.user + u.system) / 1000;
    };
  } catch {
    return null;
  }
}

/**
 * The share of the full gap to apply: 0 when fewer than one more frame per socket is expected
 * within the gap (waiting would save no write), 1 from two on; and at least the CPU share.
 */
export function paceShare(expectedFrames: number, busy: number): number {
  const byRate = expectedFrames - 1;
  const byCpu = (busy - PACE_FROM) / (PACE_FULL - PACE_FROM);
  return Math.min(1, Math.max(0, byRate, byCpu));
}

/**
 * Collects writers with something queued and flushes them together, paced as described above.
 * @example
 * const scheduler = new WriteScheduler();
 * scheduler.mark(conn); // conn.flush() runs at the next paced flush
 */
export class WriteScheduler {
  #dirty = new Set<Writer>();
  #scheduled = false;
  #nextFlushAt = 0;
  #loadAt = 0;
  #loadCpu = 0;
  #load = 1;
  #lastFlushEnd = 0;
  #frameRate = 0;
  /** The joined text of the last coalesced queue: recipients of the same frames share it. */
  #lastQueue: string[] = [];
  #lastText = "";
  #now: () => number;
  #setTimer: (fn: () => void, ms: number) => void;
  #cpuTime: (() => number) | null;
  /** Bound once, so scheduling a flush allocates nothing. */
  #flushAll = () => this.flush();

  constructor(clock: Partial<SchedulerClock> = {}) {
    this.#now = clock.now ?? (() => performance.now());
    this.#setTimer = clock.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.#cpuTime = clock.cpuTime !== undefined ? clock.cpuTime : processCpuTime();
  }

  /** A writer has something queued: it is flushed at the next paced flush. */
  mark(w: Writer): void {
    this.#dirty.add(w);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#setTimer(this.#flushAll, Math.max(0, this.#nextFlushAt - this.#now()));
  }

  /** A writer wrote or closed on its own: it is not a write the pacing should count. */
  forget(w: Writer): void {
    this.#dirty.delete(w);
  }

  /** Writers waiting for the next flush. */
  get pending(): number {
    return this.#dirty.size;
  }

  /** Whether a flush is scheduled. */
  get scheduled(): boolean {
    return this.#scheduled;
  }

  /** The text of a queue: a single frame, or the JSON array of them, shared with the previous
   * writer of the same flush when its queue held the same frames. */
  joined(q: string[]): string {
    if (q.length === 1) return q[0];
    const last = this.#lastQueue;
    if (q.length === last.length) {
      let same = true;
      for (let i = 0; i < q.length; i++) {
        if (q[i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#lastText;
    }
    this.#lastQueue = q;
    return this.#lastText = "[" + q.join(",") + "]";
  }

  /** Flushes every marked writer now and sets when the next flush may run. */
  flush(): void {
    this.#scheduled = false;
    const dirty = this.#dirty;
    const writes = dirty.size;
    let frames = 0;
    for (const w of dirty) frames = Math.max(frames, w.flush());
    dirty.clear();
    this.#lastQueue = [];
    this.#lastText = "";
    const end = this.#now();
    const gap = Math.min(FLUSH_GAP_MAX_MS, writes * FLUSH_GAP_PER_WRITE_MS);
    // Frames per ms reaching the busiest socket, smoothed over the last few flushes.
    const rate = frames / Math.max(1, end - this.#lastFlushEnd);
    this.#lastFlushEnd = end;
    this.#frameRate += (Math.min(rate, 1) - this.#frameRate) * 0.3;
    this.#nextFlushAt = end + gap * paceShare(this.#frameRate * gap, this.#sampleLoad(end));
  }

  /** Busy share of one core (0…1+) of this process, sampled at most every LOAD_SAMPLE_MS. */
  #sampleLoad(now: number): number {
    const cpuTime = this.#cpuTime;
    if (!cpuTime) return 1;
    const elapsed = now - this.#loadAt;
    if (elapsed < LOAD_SAMPLE_MS) return this.#load;
    const cpu = cpuTime();
    // Over a long quiet spell the sample is stale: start afresh from this one.
    const busy = elapsed > 1000 ? 0 : (cpu - this.#loadCpu) / elapsed;
    this.#loadAt = now;
    this.#loadCpu = cpu;
    return this.#load = busy;
  }
}

/** The scheduler every connection of this isolate shares unless given another. */
export const defaultScheduler = new WriteScheduler();
