/**
 * Follows conversations and the event log across isolates and hands what arrives, in order and
 * once, to one handler (the engine). Messages and events come by three paths: the local commit,
 * BroadcastChannel (fast, may lose or reorder) and KV watches on head keys (reliable, latest
 * value only); a Sequencer per stream turns them into one ordered delivery, reading KV for gaps.
 * Typing and presence ride on BroadcastChannel alone. Modelled on Centrifuge's `Broker` with its
 * `BrokerEventHandler`.
 * @module
 */
import { log } from "../log.ts";
import type { Message } from "../protocol.ts";
import { eventsHead, type LoggedEvent, readEvents } from "../store/events.ts";
import { getHead } from "../store/messages.ts";
import { streamBetween, type StreamItem } from "../store/stream.ts";
import type { Head } from "../store/records.ts";
import { type KeyWatcher, watchEventsHead, watchHeads } from "../store/watch.ts";
import { FastBus } from "./bus.ts";
import { Sequencer } from "./sequencer.ts";

/** A user came or went, for the members of `convIds` to hear. */
export interface PresenceNote {
  userId: string;
  online: boolean;
  lastSeen: number | null;
  convIds: string[];
}

/** What the broker reports; the engine registers one. */
export interface BrokerEventHandler {
  /** A followed conversation's next stream position (a message, a change, or a superseded
   * change with no message): in order, once, by whichever path it came. */
  onMessage(item: StreamItem): void;
  /** The log's next event: in order and once (membership ones published here come at once). */
  onEvent(e: LoggedEvent): void;
  /** A member of a conversation is typing (another isolate said so). */
  onTyping(convId: string, userId: string): void;
  /** Presence announced by another isolate. */
  onPresence(note: PresenceNote): void;
}

/** What travels on BroadcastChannel between isolates. */
type BusEvent =
  | { t: "m"; convId: string; items: StreamItem[] }
  | { t: "e"; items: LoggedEvent[] }
  | { t: "typing"; convId: string; userId: string }
  | ({ t: "presence" } & PresenceNote);

interface Stream {
  seq: Sequencer<StreamItem>;
  ready: Promise<void>;
}

const NO_HANDLER: BrokerEventHandler = {
  onMessage: () => {},
  onEvent: () => {},
  onTyping: () => {},
  onPresence: () => {},
};

/**
 * @example
 * const broker = new Broker(kv, true);
 * broker.register(engine);
 * await broker.start();
 * broker.follow(convId); await broker.ready(convId);
 */
export class Broker {
  #streams = new Map<string, Stream>();
  #heads: KeyWatcher<Head>;
  #eventsWatch: KeyWatcher<number>;
  #events: Sequencer<LoggedEvent>;
  #bus: FastBus<BusEvent>;
  /** Seqs of logged events applied when published here, for the sequencer to skip. */
  #appliedEarly = new Set<number>();
  #handler = NO_HANDLER;
  /** The handler's `onMessage`, bound once: every conversation's sequencer delivers to it. */
  #deliver: (item: StreamItem) => void = NO_HANDLER.onMessage;
  #closed = false;

  constructor(private kv: Deno.Kv, broadcast: boolean) {
    this.#heads = watchHeads(kv, (convId, head) => {
      if (head) this.#streams.get(convId)?.seq.hint(head.seq);
    });
    this.#events = new Sequencer<LoggedEvent>(
      (after, upTo) => readEvents(kv, after, upTo),
      (e) => {
        // Applied already when it was published here (see `publishEvents`).
        if (!this.#appliedEarly.delete(e.seq)) this.#handler.onEvent(e);
      },
    );
    this.#eventsWatch = watchEventsHead(kv, (head) => {
      if (head) this.#events.hint(head);
    });
    this.#bus = new FastBus<BusEvent>("parley-bus", broadcast, (e) => this.#onBus(e));
  }

  /** Sets the one handler everything is reported to (before `start`). */
  register(handler: BrokerEventHandler): void {
    this.#handler = handler;
    this.#deliver = handler.onMessage.bind(handler);
  }

  /** Starts following the event log from its current head. */
  async start(): Promise<void> {
    this.#events.start(await eventsHead(this.kv));
    this.#eventsWatch.add("events");
  }

  /** Starts delivering a conversation's new messages (no-op when followed already). */
  follow(convId: string): void {
    if (this.#streams.has(convId)) return;
    const seq = new Sequencer<StreamItem>(
      (after, upTo) => streamBetween(this.kv, convId, after, upTo),
      this.#deliver,
    );
    const ready = (async () => {
      this.#heads.add(convId);
      const head = await getHead(this.kv, convId);
      seq.start(head.value?.seq ?? 0);
    })().catch((err) => log.error("could not follow conversation", { convId, error: String(err) }));
    this.#streams.set(convId, { seq, ready });
  }

  /** Resolves when a followed conversation's delivery is set up: every message committed after
   * it is delivered. */
  ready(convId: string): Promise<void> | undefined {
    return this.#streams.get(convId)?.ready;
  }

  following(convId: string): boolean {
    return this.#streams.has(convId);
  }

  unfollow(convId: string): void {
    const s = this.#streams.get(convId);
    if (!s) return;
    s.seq.stop();
    this.#streams.delete(convId);
    this.#heads.remove(convId);
  }

  /** Publishes messages just committed here, to this isolate's handler and to other isolates. */
  publishMessages(convId: string, msgs: Message[]): void {
    this.publishItems(convId, msgs.map((m) => ({ seq: m.seq, message: m })));
  }

  /** Publishes stream positions just committed here (messages or changes), like messages. */
  publishItems(convId: string, items: StreamItem[]): void {
    const stream = this.#streams.get(convId);
    if (stream) { for (const item of items) stream.seq.offer(item); }
    this.#bus.post({ t: "m", convId, items });
  }

  /**
   * Publishes events just appended to the log here. Membership changes reach the handler at
   * once, before the caller answers, even while the log's sequencer is still catching up on
   * earlier events (their order among themselves does not matter: each concerns one member);
   * the sequencer then skips them.
   */
  publishEvents(items: LoggedEvent[]): void {
    for (const e of items) {
      const membership = e.event.type === "member_added" || e.event.type === "member_removed";
      // Not when the log's watch got there first (then it is delivered already).
      if (membership && !(e.seq <= (this.#events.delivered ?? -1))) {
        this.#appliedEarly.add(e.seq);
        this.#handler.onEvent(e);
      }
      this.#events.offer(e);
    }
    // Seqs the sequencer passed without delivering (it started beyond them) are not skipped.
    const done = this.#events.delivered ?? -1;
    for (const seq of this.#appliedEarly) if (seq <= done) this.#appliedEarly.delete(seq);
    this.#bus.post({ t: "e", items });
  }

  /** Tells other isolates a member is typing. */
  publishTyping(convId: string, userId: string): void {
    this.#bus.post({ t: "typing", convId, userId });
  }

  /** Tells other isolates a user came or went. */
  publishPresence(note: PresenceNote): void {
    this.#bus.post({ t: "presence", ...note });
  }

  #onBus(e: BusEvent): void {
    if (this.#closed) return;
    switch (e.t) {
      case "m": {
        const stream = this.#streams.get(e.convId);
        if (stream) { for (const item of e.items) stream.seq.offer(item); }
        break;
      }
      case "e":
        for (const item of e.items) this.#events.offer(item);
        break;
      case "typing":
        this.#handler.onTyping(e.convId, e.userId);
        break;
      case "presence":
        this.#handler.onPresence(e);
        break;
    }
  }

  /** Stops every stream, watch and the channel; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#heads.close();
    this.#eventsWatch.close();
    this.#events.stop();
    for (const s of this.#streams.values()) s.seq.stop();
    this.#bus.close();
  }
}
