/**
 * The fast path between isolates: BroadcastChannel, which may lose events. The path that does
 * not is a KV watch on small head keys (lib/store/watch.ts), so delivery stays correct with the
 * channel switched off, and while an isolate does not know of any other.
 * @module
 */
import { log } from "../log.ts";

/** How often an isolate tells the others it is there. */
const HEARTBEAT_MS = 5_000;
/** An isolate not heard from for this long is gone. */
const PEER_TTL_MS = 3 * HEARTBEAT_MS;
/** The field that marks the bus's own messages (never a field of an event). */
const CONTROL = "parley-bus";

type Control = { [CONTROL]: "hello" | "here" | "bye"; from: string };

/**
 * The fast path: a BroadcastChannel, or nothing when switched off. Events are posted only while
 * another isolate is known to listen: each says hello when it opens, answers others' hellos,
 * repeats it every HEARTBEAT_MS and says bye when it closes. A lone isolate (`deno task start`)
 * so skips the structured clone of every commit (~6% of its JavaScript time in the direct
 * benchmark); one that starts beside others is found within a heartbeat, and until then the KV
 * watch delivers to it.
 */
export class FastBus<T> {
  #channel: BroadcastChannel | null;
  #id = crypto.randomUUID();
  #peers = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(name: string, enabled: boolean, onEvent: (event: T) => void) {
    this.#channel = enabled ? new BroadcastChannel(name) : null;
    if (!this.#channel) return;
    this.#channel.onmessage = (e: MessageEvent<T | Control>) => {
      const data = e.data as Partial<Control>;
      if (data && typeof data === "object" && CONTROL in data) this.#control(data as Control);
      else onEvent(e.data as T);
    };
    this.#say("hello");
    const timer = setInterval(() => {
      this.#say("here");
      this.#forgetSilent();
    }, HEARTBEAT_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** How many other isolates were heard from lately (posts go out only while there are any). */
  get peers(): number {
    return this.#peers.size;
  }

  post(event: T): void {
    if (this.#peers.size > 0) this.#send(event);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#say("bye");
    this.#channel?.close();
    this.#channel = null;
  }

  #control(c: Control): void {
    if (c.from === this.#id) return;
    if (c[CONTROL] === "bye") this.#peers.delete(c.from);
    else this.#peers.set(c.from, Date.now());
    if (c[CONTROL] === "hello") this.#say("here");
  }

  /** Forgets isolates not heard from for PEER_TTL_MS (gone without a bye); at each heartbeat. */
  #forgetSilent(): void {
    const now = Date.now();
    for (const [id, seen] of this.#peers) if (now - seen > PEER_TTL_MS) this.#peers.delete(id);
  }

  #say(what: Control[typeof CONTROL]): void {
    this.#send({ [CONTROL]: what, from: this.#id } satisfies Control);
  }

  #send(data: T | Control): void {
    try {
      this.#channel?.postMessage(data);
    } catch (err) {
      log.warn("broadcast failed", { error: String(err) });
    }
  }
}
