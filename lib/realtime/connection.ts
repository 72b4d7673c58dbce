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

const dirty = new Set<WsConnection>();
let flushScheduled = false;

function flushAll() {
  flushScheduled = false;
  for (const conn of dirty) conn.flush();
  dirty.clear();
}

/** The real connection over a Deno WebSocket. */
export class WsConnection implements Connection {
  #queue: string[] = [];
  #queuedBytes = 0;
  #closed = false;
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

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  sendRaw(frame: string): void {
    if (!this.open) return;
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    if (this.#queuedBytes + (this.socket.bufferedAmount ?? 0) > MAX_QUEUED_BYTES) {
      this.#queue = [];
      this.#queuedBytes = 0;
      this.close(CLOSE.policy, "too slow: reconnect and sync");
      return;
    }
    dirty.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setTimeout(flushAll, 0);
    }
  }

  /** Writes the queue as one text message: a single frame, or an array of frames. */
  flush(): void {
    const q = this.#queue;
    if (q.length === 0 || !this.open) return;
    this.#queue = [];
    this.#queuedBytes = 0;
    try {
      this.socket.send(q.length === 1 ? q[0] : "[" + q.join(",") + "]");
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
