/**
 * A connection as the hub sees it: something that takes serialized frames and can be closed.
 * The real one wraps a WebSocket; tests can pass a fake. Frames queued in one turn of the
 * event loop go out as one JSON array (the contract allows it), and a reader that falls too
 * far behind is closed with 1008 instead of growing memory without bound.
 * @module
 */
import process from "node:process";
import { CLOSE, type ServerFrame } from "../protocol.ts";

export interface Connection {
  readonly id: string;
  readonly userId: string;
  readonly sessionId: string;
  /** Queues an already serialized frame (a JSON object text). */
  sendRaw(frame: string): void;
  /** Serializes and queues a frame. */
  send(frame: ServerFrame): void;
  /**
   * Serializes and queues an answer to this client's own request (ack, error, pong, sync page)
   * and writes the connection's queue without waiting for the fan-out pacing: a sender waits
   * for its ack, while pacing is there to batch what many sockets receive.
   */
  reply(frame: ServerFrame): void;
  close(code: number, reason: string): void;
  readonly open: boolean;
  /** When the client last said anything (ms since epoch). */
  lastHeard: number;
}

/** Bytes a connection may have queued (ours plus the socket's own buffer) before it is dropped. */
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * Flush pacing, adaptive. Every socket write costs the server a fixed ~10 µs (op, frame,
 * syscall; on loopback also the receiver's TCP work) whatever it carries, so under fan-out load
 * the number of writes, not of frames, is the limit. After a flush that wrote to N sockets, the
 * next one may wait up to N × FLUSH_GAP_PER_WRITE_MS (at most FLUSH_GAP_MAX_MS), so that each
 * socket gets one JSON array per gap carrying everything that arrived meanwhile.
 *
 * Waiting only pays when more frames would arrive meanwhile, so the share of that gap applied
 * is the larger of: (a) by rate: 0 when the busiest socket is expected to get at most one more
 * frame within the gap (the wait would save no write, only add latency), 1 from two on;
 * (b) by CPU: 0 while this process uses less than PACE_FROM of one core, 1 from PACE_FULL.
 * Moderate load goes out on the next turn; from ~2 frames per gap on it is the full gap.
 * Answers to a client's own requests (`reply`) do not wait for the gap.
 */
const FLUSH_GAP_PER_WRITE_MS = 0.02;
const FLUSH_GAP_MAX_MS = 20;
const PACE_FROM = 0.6;
const PACE_FULL = 0.9;
const LOAD_SAMPLE_MS = 50;

const dirty = new Set<WsConnection>();
let flushScheduled = false;
let nextFlushAt = 0;

/** Busy share of one core (0…1+) of this process, sampled at most every LOAD_SAMPLE_MS; null
 * where process CPU time cannot be read (then the whole gap always applies). */
const cpuTime: (() => number) | null = (() => {
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
})();
let loadAt = 0;
let loadCpu = 0;
let load = 1;

function sampleLoad(now: number): number {
  if (!cpuTime) return 1;
  const elapsed = now - loadAt;
  if (elapsed < LOAD_SAMPLE_MS) return load;
  const cpu = cpuTime();
  // Over a long quiet spell the sample is stale: start afresh from this one.
  const busy = elapsed > 1000 ? 0 : (cpu - loadCpu) / elapsed;
  loadAt = now;
  loadCpu = cpu;
  return load = busy;
}

let lastFlushEnd = 0;
let frameRate = 0;

/**
 * The share of the full gap to apply: 0 when fewer than one more frame per socket is expected
 * within the gap (waiting would save no write), 1 from two on; and at least the CPU share.
 */
function paceShare(expectedFrames: number, busy: number): number {
  const byRate = expectedFrames - 1;
  const byCpu = (busy - PACE_FROM) / (PACE_FULL - PACE_FROM);
  return Math.min(1, Math.max(0, byRate, byCpu));
}

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setTimeout(flushAll, Math.max(0, nextFlushAt - performance.now()));
}

/** The joined text of the last coalesced queue: recipients of the same frames share it. */
let lastQueue: string[] = [];
let lastText = "";

function joined(q: string[]): string {
  if (q.length === 1) return q[0];
  const last = lastQueue;
  if (q.length === last.length) {
    let same = true;
    for (let i = 0; i < q.length; i++) {
      if (q[i] !== last[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastText;
  }
  lastQueue = q;
  return lastText = "[" + q.join(",") + "]";
}

function flushAll() {
  flushScheduled = false;
  const writes = dirty.size;
  let frames = 0;
  for (const conn of dirty) frames = Math.max(frames, conn.flush());
  dirty.clear();
  lastQueue = [];
  lastText = "";
  const end = performance.now();
  const gap = Math.min(FLUSH_GAP_MAX_MS, writes * FLUSH_GAP_PER_WRITE_MS);
  // Frames per ms reaching the busiest socket, smoothed over the last few flushes.
  const rate = frames / Math.max(1, end - lastFlushEnd);
  lastFlushEnd = end;
  frameRate += (Math.min(rate, 1) - frameRate) * 0.3;
  nextFlushAt = end + gap * paceShare(frameRate * gap, sampleLoad(end));
}

/** The real connection over a Deno WebSocket. */
export class WsConnection implements Connection {
  /** Frames waiting for the next flush; allocated on the first one (most sockets are idle). */
  #queue: string[] | null = null;
  #queuedBytes = 0;
  #closed = false;
  /** Frames that arrived before `ready` (see `holdUntilReady`), or null once ready. */
  #held: string[] | null = null;
  #replyPending = false;
  lastHeard = Date.now();
  /** Frames written to the socket (for the close log). */
  framesOut = 0;

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly sessionId: string,
    private socket: WebSocket,
  ) {}

  get open(): boolean {
    return !this.#closed && this.socket.readyState === WebSocket.OPEN;
  }

  /** The socket reported its close: stop queueing without asking it on every frame. */
  markClosed(): void {
    this.#closed = true;
    this.#queue = null;
    this.#queuedBytes = 0;
    this.#held = null;
    dirty.delete(this);
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  reply(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
    if (this.#replyPending || this.#queue === null) return;
    // At the end of the current task, so that answers queued together share one write.
    this.#replyPending = true;
    queueMicrotask(() => {
      this.#replyPending = false;
      this.flush();
      if (this.#queue === null) dirty.delete(this); // not a write the pacing should count
    });
  }

  /**
   * Holds every frame until `ready` is sent, so that `ready` is the first frame the client gets
   * (the contract says so) even when a presence or message frame for this user comes first.
   */
  holdUntilReady(): void {
    this.#held ??= [];
  }

  /** Queues the `ready` frame first, then whatever was held back for it. */
  sendReady(frame: ServerFrame): void {
    const held = this.#held ?? [];
    this.#held = null;
    this.#queuedBytes = 0; // counted again as they are queued below
    this.sendRaw(JSON.stringify(frame));
    for (const f of held) this.sendRaw(f);
  }

  sendRaw(frame: string): void {
    // Only our own flag here: asking the socket (readyState, bufferedAmount) is an op call,
    // done once per write in flush rather than once per frame per recipient.
    if (this.#closed) return;
    this.#queuedBytes += frame.length;
    if (this.#held) {
      // Held frames count against the same bound as queued ones.
      this.#held.push(frame);
      if (this.#queuedBytes > MAX_QUEUED_BYTES) {
        this.#held = null;
        this.#queuedBytes = 0;
        this.close(CLOSE.policy, "too slow: reconnect and sync");
      }
      return;
    }
    (this.#queue ??= []).push(frame);
    if (this.#queuedBytes > MAX_QUEUED_BYTES) return this.#drop();
    dirty.add(this);
    scheduleFlush();
  }

  #drop(): void {
    this.#queue = null;
    this.#queuedBytes = 0;
    this.close(CLOSE.policy, "too slow: reconnect and sync");
  }

  /**
   * Writes the queue as one text message: a single frame, or an array of frames. Returns how
   * many frames went out.
   */
  flush(): number {
    const q = this.#queue;
    if (q === null || q.length === 0) return 0;
    if (!this.open) {
      this.#queue = null;
      this.#queuedBytes = 0;
      return 0;
    }
    if (this.#queuedBytes + (this.socket.bufferedAmount ?? 0) > MAX_QUEUED_BYTES) {
      this.#drop();
      return 0;
    }
    this.#queue = null;
    this.#queuedBytes = 0;
    try {
      this.socket.send(joined(q));
      this.framesOut += q.length;
    } catch {
      this.#closed = true;
    }
    return q.length;
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    try {
      this.socket.close(code, reason);
    } catch {
      // already closing
    }
  }
}
