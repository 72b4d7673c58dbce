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

/** What a queue budget needs of a connection: its bytes now, and closing it. */
interface Queued {
  /** Bytes queued for it now (ours plus the socket's buffer, read afresh). */
  measure(): number;
  /** Closes it as a reader too slow to keep up (1008). */
  dropSlow(): void;
}

/**
 * A bound on the bytes queued for slow readers over all of an isolate's connections, on top of
 * each one's own MAX_QUEUED_BYTES: many sockets that never read (one account may hold 20) must
 * not add up to gigabytes. Connections report their bytes as they queue and write; past the
 * limit the counts are taken afresh (a stale count may be a queue written out long ago) and,
 * while still past it, the connection holding the most is closed with 1008.
 */
export class QueueBudget {
  /** Bytes counted over every connection. */
  total = 0;
  #members = new Set<Queued>();

  constructor(public limit: number = 256 * 1024 * 1024) {}

  join(c: Queued): void {
    this.#members.add(c);
  }

  leave(c: Queued): void {
    this.#members.delete(c);
  }

  /** Called when `total` went past `limit`. */
  shed(): void {
    let total = 0;
    const sizes = new Map<Queued, number>();
    for (const c of this.#members) {
      const n = c.measure();
      sizes.set(c, n);
      total += n;
    }
    this.total = total;
    while (this.total > this.limit && sizes.size > 0) {
      let biggest: Queued | null = null;
      let most = -1;
      for (const [c, n] of sizes) {
        if (n > most) [biggest, most] = [c, n];
      }
      sizes.delete(biggest!);
      biggest!.dropSlow(); // takes its bytes off `total`
    }
  }
}

/** The budget of connections made without one (tests); the engine has its own. */
export const defaultQueueBudget = new QueueBudget();

/**
 * How long a socket we closed may wait for the peer's close frame before its TCP connection is
 * dropped. Our side (hub, queues, presence) lets go of it at once; this only bounds what the
 * runtime keeps for it.
 */
export const CLOSE_WAIT_MS = 5_000;

/**
 * Drops a server WebSocket's TCP connection without waiting for the peer. Deno 2.9 has no public
 * API for it (after `close()` the runtime waits for the peer's close frame, or any frame, for as
 * long as TCP stays up), so this closes the socket's resource through the runtime's internal
 * handle, looked up defensively: where it is missing, nothing is done and the runtime keeps the
 * socket until TCP gives up; nothing of ours is held meanwhile. Returns whether it could.
 */
export function abortSocket(socket: WebSocket): boolean {
  try {
    // deno-lint-ignore no-explicit-any
    const d = Deno as any;
    const core = d.internal ? d[d.internal]?.core : undefined;
    const rid = Object.getOwnPropertySymbols(socket).find((s) => s.description === "[[rid]]");
    if (typeof core?.tryClose !== "function" || rid === undefined) return false;
    // deno-lint-ignore no-explicit-any
    const id = (socket as any)[rid];
    if (typeof id !== "number") return false;
    core.tryClose(id);
    return true;
  } catch {
    return false;
  }
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
  #ended = false;
  #dropTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bytes this connection counts in the budget: its queue plus the socket's buffer as last
   * read. */
  #counted = 0;
  /** Called once when the connection is over for us: the peer closed, or we did. */
  onEnd: (() => void) | null = null;
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
    /** Bounds the bytes queued over all connections; tests pass their own. */
    private budget: QueueBudget = defaultQueueBudget,
  ) {
    budget.join(this);
  }

  /** Sets what this connection counts in the budget; sheds when the total goes past it. */
  #count(bytes: number): void {
    const b = this.budget;
    b.total += bytes - this.#counted;
    this.#counted = bytes;
    if (b.total > b.limit && bytes > 0) b.shed();
  }

  measure(): number {
    const n = this.#closed ? 0 : this.#queuedBytes + (this.socket.bufferedAmount ?? 0);
    this.budget.total += n - this.#counted;
    this.#counted = n;
    return n;
  }

  dropSlow(): void {
    this.#held = null;
    this.#drop();
  }

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
    this.budget.total -= this.#counted;
    this.#counted = 0;
    this.budget.leave(this);
  }

  /**
   * The connection is over for us (the socket reported its close, or we closed it): frees its
   * queues and tells `onEnd` once, whatever comes later from the socket.
   */
  end(): void {
    this.markClosed();
    if (this.#dropTimer !== null) clearTimeout(this.#dropTimer);
    this.#dropTimer = null;
    if (this.#ended) return;
    this.#ended = true;
    this.onEnd?.();
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
    this.budget.total -= this.#counted;
    this.#counted = 0;
    this.sendRaw(JSON.stringify(frame));
    for (const f of held) this.sendRaw(f);
  }

  sendRaw(frame: string): void {
    // Only our own flag here: asking the socket (readyState, bufferedAmount) is an op call,
    // done once per write in flush rather than once per frame per recipient.
    if (this.#closed) return;
    this.#queuedBytes += frame.length;
    this.#count(this.#counted + frame.length);
    if (this.#closed) return; // the budget shed this very connection
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
    this.#count(0);
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
    const buffered = this.socket.bufferedAmount ?? 0;
    const bytes = this.#queuedBytes;
    if (bytes + buffered > MAX_QUEUED_BYTES) {
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
    // What was written now sits in the socket's buffer until the peer reads it (at most; the
    // next write, or a shed, reads the buffer afresh).
    if (this.#counted !== bytes + buffered) this.#count(bytes + buffered);
    return q.length;
  }

  /**
   * Closes with a code. The connection ends for us at once (after the current task, since a
   * close can come from inside a fan-out loop): a peer that never answers the close, or never
   * reads, must not keep its user online or its queue allocated. Its TCP connection is dropped
   * if it has not answered within CLOSE_WAIT_MS.
   */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    try {
      this.socket.close(code, reason);
    } catch {
      // already closing
    }
    queueMicrotask(() => {
      if (this.#ended) return;
      this.end();
      const socket = this.socket;
      if (socket.readyState === WebSocket.CLOSED) return;
      this.#dropTimer = setTimeout(() => {
        this.#dropTimer = null;
        if (socket.readyState !== WebSocket.CLOSED) abortSocket(socket);
      }, CLOSE_WAIT_MS);
      Deno.unrefTimer(this.#dropTimer); // never what keeps a stopping process alive
    });
  }
}
