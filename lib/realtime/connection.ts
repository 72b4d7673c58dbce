/**
 * A connection as the hub sees it: something that takes serialized frames and can be closed.
 * The real one wraps a WebSocket; tests can pass a fake. Frames queued until the next write
 * (scheduler.ts paces them) go out as one JSON array (the contract allows it), and a reader
 * that falls too far behind is closed with 1008 instead of growing memory without bound.
 * @module
 */
import { CLOSE, type ServerFrame } from "../protocol.ts";
import { defaultScheduler, type WriteScheduler } from "./scheduler.ts";

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
    /** Paces this connection's writes; tests pass their own. */
    private scheduler: WriteScheduler = defaultScheduler,
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
    this.scheduler.forget(this);
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
      if (this.#queue === null) this.scheduler.forget(this); // not a write the pacing should count
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
    this.scheduler.mark(this);
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
      this.socket.send(this.scheduler.joined(q));
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
