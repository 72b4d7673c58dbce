/**
 * A connection as the hub sees it: something that takes serialized frames and can be closed.
 * The real one wraps a WebSocket; tests can pass a fake. Frames queued in one turn of the
 * event loop go out as one JSON array (the contract allows it), and a reader that falls too
 * far behind is closed with 1008 instead of growing memory without bound.
 * @module
 */
import { CLOSE, type ServerFrame } from "../protocol.ts";

export interface Connection {
  readonly id: string;
  readonly userId: string;
  readonly sessionId: string;
  /** Queues an already serialized frame (a JSON object text). */
  sendRaw(frame: string): void;
  /** Serializes and queues a frame. */
  send(frame: ServerFrame): void;
  close(code: number, reason: string): void;
  readonly open: boolean;
  /** When the client last said anything (ms since epoch). */
  lastHeard: number;
}

/** Bytes a connection may have queued (ours plus the socket's own buffer) before it is dropped. */
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * Flush pacing. Every socket write costs the server a fixed ~5–10 µs (op, frame, syscall)
 * whatever it carries, so under fan-out load the number of writes, not of frames, is the
 * limit. After a flush that wrote to N sockets, the next one waits N × FLUSH_GAP_PER_WRITE_MS
 * (at most FLUSH_GAP_MAX_MS): a flush to a handful of sockets goes out on the next turn as
 * before; a flush to 1,000 sockets is followed by ~10 ms of coalescing, so each socket gets
 * one JSON array per ~10 ms carrying everything that arrived meanwhile.
 */
const FLUSH_GAP_PER_WRITE_MS = Number(Deno.env.get("PARLEY_GAPW") ?? 0.02);
const FLUSH_GAP_MAX_MS = 20;

const dirty = new Set<WsConnection>();
let flushScheduled = false;
let nextFlushAt = 0;

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  st.sched = Math.max(performance.now(), nextFlushAt);
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

const STATS = Deno.env.get("PARLEY_FLUSH_STATS");
const st = { n: 0, writes: 0, dur: 0, maxDur: 0, late: 0, maxLate: 0, t0: performance.now(), sched: 0 };
function flushAll() {
  flushScheduled = false;
  const t0 = performance.now();
  const writes = dirty.size;
  for (const conn of dirty) conn.flush();
  if (STATS) {
    const d = performance.now() - t0;
    const late = t0 - st.sched;
    st.n++; st.writes += writes; st.dur += d; st.maxDur = Math.max(st.maxDur, d);
    st.late += late; st.maxLate = Math.max(st.maxLate, late);
    if (t0 - st.t0 > 1000) {
      Deno.writeTextFileSync(STATS, `flushes ${st.n} writes/flush ${(st.writes/st.n).toFixed(0)} dur avg ${(st.dur/st.n).toFixed(2)} max ${st.maxDur.toFixed(1)} busy% ${(100*st.dur/(t0-st.t0)).toFixed(1)} late avg ${(st.late/st.n).toFixed(2)} max ${st.maxLate.toFixed(1)}\n`, { append: true });
      Object.assign(st, { n: 0, writes: 0, dur: 0, maxDur: 0, late: 0, maxLate: 0, t0 });
    }
  }
  dirty.clear();
  lastQueue = [];
  lastText = "";
  nextFlushAt = performance.now() + Math.min(FLUSH_GAP_MAX_MS, writes * FLUSH_GAP_PER_WRITE_MS);
}

/** The real connection over a Deno WebSocket. */
export class WsConnection implements Connection {
  #queue: string[] = [];
  #queuedBytes = 0;
  #closed = false;
  /** Frames that arrived before `ready` (see `holdUntilReady`), or null once ready. */
  #held: string[] | null = null;
  lastHeard = Date.now();

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
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#held = null;
    dirty.delete(this);
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
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
    this.sendRaw(JSON.stringify(frame));
    for (const f of held) this.sendRaw(f);
  }

  sendRaw(frame: string): void {
    // Only our own flag here: asking the socket (readyState, bufferedAmount) is an op call,
    // done once per write in flush rather than once per frame per recipient.
    if (this.#closed) return;
    if (this.#held) {
      if (this.#held.push(frame) > 10_000) {
        this.#held = null;
        this.close(CLOSE.policy, "too slow: reconnect and sync");
      }
      return;
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    if (this.#queuedBytes > MAX_QUEUED_BYTES) return this.#drop();
    dirty.add(this);
    scheduleFlush();
  }

  #drop(): void {
    this.#queue = [];
    this.#queuedBytes = 0;
    this.close(CLOSE.policy, "too slow: reconnect and sync");
  }

  /** Writes the queue as one text message: a single frame, or an array of frames. */
  flush(): void {
    const q = this.#queue;
    if (q.length === 0) return;
    if (!this.open) {
      this.#queue = [];
      this.#queuedBytes = 0;
      return;
    }
    if (this.#queuedBytes + (this.socket.bufferedAmount ?? 0) > MAX_QUEUED_BYTES) {
      return this.#drop();
    }
    this.#queue = [];
    this.#queuedBytes = 0;
    try {
      this.socket.send(joined(q));
    } catch {
      this.#closed = true;
    }
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
