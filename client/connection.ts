/**
 * The browser's one WebSocket to the server (its URL from `api.socketUrl`): waits for `ready`,
 * keeps the connection alive with pings at the contract's interval, and reconnects with
 * exponential backoff and jitter (backoff.ts). It knows nothing about chat state:
 * frames go to `onFrame`, and every `ready` (the first and each one after a reconnect) goes to
 * `onReady`, where the caller syncs what it holds. Browser only; no UI.
 * @module
 */
import { type ClientFrame, CLOSE, HEARTBEAT, type ServerFrame } from "../lib/protocol.ts";
import { sessionAlive } from "./api.ts";
import type { ChangeFrame } from "./changes.ts";
import { BACKOFF_MAX_MS, backoffDelay } from "./backoff.ts";

/** `connecting` before the first `ready`; `reconnecting` after losing a connection. */
export type ConnectionState = "connecting" | "open" | "reconnecting";

export interface ConnectionOptions {
  url: string;
  onFrame(frame: ServerFrame): void;
  onReady(frame: { userId: string; connectionId: string }): void;
  onState(state: ConnectionState): void;
  /** The session is gone (close 4001, or the session check answers 401): go sign in again. */
  onSignedOut(): void;
}

/** Ping when we have said nothing for this long: the contract's interval, well inside the
 * silence the server allows (`HEARTBEAT.silentCloseMs`). */
const PING_MS = HEARTBEAT.clientIntervalMs;
/** Treat the socket as dead when the server has said nothing for this long after a ping. */
const DEAD_MS = 45_000;
/** Close 4003 (too many connections) asks for this long before trying again. */
const TOO_MANY_WAIT_MS = 30_000;
/** After this many failed attempts in a row, ask the server whether we are still signed in. */
const CHECK_AUTH_AFTER = 3;

/** Parses one server text message: a frame, or an array of frames to handle in order. */
export function parseFrames(data: string): ServerFrame[] {
  const parsed = JSON.parse(data);
  return Array.isArray(parsed) ? parsed : [parsed];
}

export class Connection {
  #opts: ConnectionOptions;
  #ws: WebSocket | null = null;
  #ready = false;
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #beat: ReturnType<typeof setInterval> | null = null;
  #lastSent = 0;
  #lastHeard = 0;
  #stopped = false;
  #state: ConnectionState = "connecting";

  constructor(opts: ConnectionOptions) {
    this.#opts = opts;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Opens the socket and starts listening to the browser's online/offline events. */
  start(): void {
    addEventListener("online", this.#onOnline);
    addEventListener("offline", this.#onOffline);
    document.addEventListener("visibilitychange", this.#onVisible);
    this.#beat = setInterval(() => this.#heartbeat(), 5_000);
    this.#open();
  }

  /** Sends a frame when the socket is ready; false when it could not (the caller retries). */
  send(frame: ClientFrame | ChangeFrame): boolean {
    if (!this.#ready || this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    this.#lastSent = Date.now();
    return true;
  }

  /** Drops the current socket and reconnects at once (used when the network comes back). */
  reconnectNow(): void {
    if (this.#stopped) return;
    this.#failures = 0;
    this.#drop();
    this.#open();
  }

  stop(): void {
    this.#stopped = true;
    removeEventListener("online", this.#onOnline);
    removeEventListener("offline", this.#onOffline);
    document.removeEventListener("visibilitychange", this.#onVisible);
    if (this.#beat) clearInterval(this.#beat);
    this.#drop();
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#opts.onState(state);
  }

  #open(): void {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    const ws = new WebSocket(this.#opts.url);
    this.#ws = ws;
    ws.onmessage = (e) => {
      if (ws !== this.#ws) return;
      this.#lastHeard = Date.now();
      let frames: ServerFrame[];
      try {
        frames = parseFrames(String(e.data));
      } catch {
        return;
      }
      for (const frame of frames) {
        if (frame.type === "ready") {
          this.#ready = true;
          this.#failures = 0;
          this.#lastSent = Date.now();
          this.#setState("open");
          this.#opts.onReady(frame);
        } else {
          this.#opts.onFrame(frame);
        }
      }
    };
    ws.onclose = (e) => {
      if (ws !== this.#ws) return;
      this.#ws = null;
      this.#lost(e.code);
    };
  }

  #drop(): void {
    const ws = this.#ws;
    this.#ws = null;
    this.#ready = false;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(1000);
      } catch { /* already closing */ }
    }
  }

  #lost(code: number): void {
    const wasReady = this.#ready;
    this.#ready = false;
    if (this.#stopped) return;
    if (code === CLOSE.revoked) {
      this.#opts.onSignedOut();
      return;
    }
    this.#setState("reconnecting");
    if (code === CLOSE.tooMany) {
      // The user (or this address) holds too many sockets: the server asks for 30 s.
      this.#schedule(TOO_MANY_WAIT_MS + Math.round(Math.random() * 5_000));
      return;
    }
    if (!wasReady) this.#failures++;
    if (this.#failures >= CHECK_AUTH_AFTER && this.#failures % CHECK_AUTH_AFTER === 0) {
      this.#checkAuth();
    }
    this.#schedule();
  }

  #schedule(wait?: number): void {
    if (this.#retry || this.#stopped) return;
    // While the browser says it is offline, wait for its `online` event (checked slowly too).
    const delay = wait ?? (navigator.onLine ? backoffDelay(this.#failures) : BACKOFF_MAX_MS);
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#open();
    }, delay);
  }

  async #checkAuth(): Promise<void> {
    try {
      if (!(await sessionAlive())) {
        this.stop();
        this.#opts.onSignedOut();
      }
    } catch { /* offline: keep trying */ }
  }

  #heartbeat(): void {
    if (!this.#ready || !this.#ws) return;
    const now = Date.now();
    if (now - this.#lastHeard > DEAD_MS && now - this.#lastSent < DEAD_MS) {
      // We pinged and heard nothing back: the socket is half-dead.
      this.#dropAndRetry();
      return;
    }
    if (now - this.#lastSent >= PING_MS) this.send({ type: "ping" });
  }

  #onOnline = () => this.reconnectNow();

  #onOffline = () => {
    if (this.#ws) this.#dropAndRetry();
  };

  #dropAndRetry(): void {
    this.#drop();
    this.#setState("reconnecting");
    this.#schedule();
  }

  #onVisible = () => {
    if (document.visibilityState === "visible" && !this.#ready && this.#retry) {
      this.reconnectNow();
    }
  };
}
