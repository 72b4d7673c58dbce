/**
 * The realtime engine of one isolate: its connections (hub), ordered delivery of messages per
 * conversation and of the event log (sequencers fed by the local commit, BroadcastChannel and
 * KV watches), presence and typing. The socket handler and the chat service talk to it; it
 * never talks HTTP.
 * @module
 */
import type { Config } from "../config.ts";
import { log } from "../log.ts";
import { CLOSE, type Conversation, type Message, type ServerFrame } from "../protocol.ts";
import { getConversations, listMemberships } from "../store/conversations.ts";
import { eventsHead, type LoggedEvent, readEvents } from "../store/events.ts";
import { keys } from "../store/keys.ts";
import { getHead, type Head, messagesBetween } from "../store/messages.ts";
import { FastBus, KeyWatcher } from "./bus.ts";
import type { Connection } from "./connection.ts";
import { Drain } from "../drain.ts";
import { hot } from "../metrics_hot.ts";
import { Hub } from "./hub.ts";
import { PresenceStore } from "./presence.ts";
import { Sequencer } from "./sequencer.ts";

/** What travels on BroadcastChannel between isolates. */
type BusEvent =
  | { t: "m"; convId: string; msgs: Message[] }
  | { t: "e"; items: LoggedEvent[] }
  | { t: "typing"; convId: string; userId: string }
  | { t: "presence"; userId: string; online: boolean; lastSeen: number | null; convIds: string[] };

/** Presence is announced through direct chats and groups up to this size only, so a big group
 * coming online at once costs O(members) frames, not O(members²). */
export const PRESENCE_GROUP_MAX = 50;
/** Recent removals remembered for connects in progress (see `connect`): those of the last
 * minute, and at most this many. */
const REMOVALS_KEPT = 200_000;
const PRESENCE_FLUSH_MS = 100;
const CONV_REFRESH_MS = 30;
const TYPING_INTERVAL_MS = 1000;

/** Builds a user's view of a conversation (for `conversation` frames). */
export type ConversationViewer = (userId: string, convId: string) => Promise<Conversation | null>;

interface ConvMeta {
  kind: string;
  memberCount: number;
}

export class Realtime {
  readonly hub = new Hub();
  /** Shutdown state: the socket handler and the routes consult it (see lib/drain.ts). */
  readonly drain = new Drain();
  readonly presence: PresenceStore;
  #streams = new Map<string, { seq: Sequencer<Message>; ready: Promise<void> }>();
  #exclude = new Map<string, string>();
  #heads: KeyWatcher<Head>;
  #eventsWatch: KeyWatcher<number>;
  #events: Sequencer<LoggedEvent>;
  #bus: FastBus<BusEvent>;
  #meta = new Map<string, ConvMeta>();
  /** userId + "\0" + convId → when a `member_removed` for it was applied here. */
  #removedAt = new Map<string, number>();
  /** Seqs of logged events applied when published here, for the sequencer to skip. */
  #appliedEarly = new Set<number>();
  #viewer: ConversationViewer = () => Promise.resolve(null);
  #pendingPresence = new Map<string, { frame: string; convIds: string[] }>();
  #presenceTimer: ReturnType<typeof setTimeout> | null = null;
  #pendingRefresh = new Set<string>();
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  #typingLast = new Map<string, number>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #closed = false;

  constructor(
    private kv: Deno.Kv,
    private config: Config,
    readonly isolateId: string,
  ) {
    this.presence = new PresenceStore(kv, isolateId, 90_000);
    // One head per watch stream: a head changes on every commit of its conversation, and a
    // shared stream would read and deserialize all its heads each time.
    this.#heads = new KeyWatcher<Head>(kv, keys.head, (convId, head) => {
      if (head) this.#streams.get(convId)?.seq.hint(head.seq);
    }, 1);
    this.#events = new Sequencer<LoggedEvent>(
      (after, upTo) => readEvents(kv, after, upTo),
      (e) => {
        // Applied already when it was published here (see `publishEvents`).
        if (!this.#appliedEarly.delete(e.seq)) this.#applyEvent(e);
      },
    );
    this.#eventsWatch = new KeyWatcher<number>(kv, () => keys.eventsHead(), (_, head) => {
      if (head) this.#events.hint(head);
    });
    this.#bus = new FastBus<BusEvent>("parley-bus", config.broadcast, (e) => this.#onBus(e));
  }

  /** Starts following the event log and the timers. */
  async start(): Promise<void> {
    this.#events.start(await eventsHead(this.kv));
    this.#eventsWatch.add("events");
    const beat = Math.max(50, Math.min(5000, Math.floor(this.config.heartbeatTimeoutMs / 4)));
    this.#timers.push(setInterval(() => this.#checkHeartbeats(), beat));
    this.#timers.push(setInterval(() => {
      this.presence.markOnline([...this.hub.users()]).catch((err) =>
        log.warn("presence refresh failed", { error: String(err) })
      );
    }, 30_000));
  }

  /** Lets the engine build `conversation` frames (the chat service provides this). */
  setViewer(viewer: ConversationViewer): void {
    this.#viewer = viewer;
  }

  /**
   * Registers a new connection: subscribes it to the user's conversations and announces
   * presence. Resolves when live delivery is set up, so a `ready` sent after it followed by a
   * `sync` from the client misses nothing.
   */
  async connect(conn: Connection): Promise<void> {
    const first = this.hub.add(conn);
    const listedAt = Date.now();
    const listed = await listMemberships(this.kv, conn.userId);
    // A removal applied while the list was being read is not in it: leave those out. (One
    // applied from here on finds the user subscribed and is handled as usual.)
    const convIds = listed.filter((c) => !this.#removedSince(conn.userId, c, listedAt));
    if (conn.open && this.hub.hasUser(conn.userId)) await this.#follow(conn.userId, convIds);
    // The user's first connection here announces them, even if it closed meanwhile while
    // another one of theirs opened; with none left, `disconnect` already said they left.
    if (!first || !this.hub.hasUser(conn.userId)) return;
    await this.presence.markOnline([conn.userId]);
    if (!this.hub.hasUser(conn.userId)) {
      // Gone while being marked online: `disconnect` may have run before that write landed.
      const lastSeen = await this.presence.markOffline(conn.userId);
      if (lastSeen !== null) await this.#announcePresence(conn.userId, false, lastSeen, convIds);
      return;
    }
    await this.#announcePresence(conn.userId, true, null, convIds);
  }

  /** Whether `userId` was removed from `convId` at or after `since` (and not added back). */
  #removedSince(userId: string, convId: string, since: number): boolean {
    return (this.#removedAt.get(userId + "\u0000" + convId) ?? -1) >= since;
  }

  /** Unregisters a connection; the user's last one going makes them offline. */
  async disconnect(conn: Connection): Promise<void> {
    // The user's conversations as this isolate follows them: no need to ask KV again.
    const convIds = [...this.hub.convsOf(conn.userId)];
    // What is known of them, before unfollowing forgets it (announcing must not re-read it).
    const known = new Map(convIds.flatMap((c) => {
      const m = this.#meta.get(c);
      return m ? [[c, m] as const] : [];
    }));
    const { last, idle } = this.hub.remove(conn);
    for (const convId of idle) this.#unfollowConv(convId);
    if (!last || this.#closed) return;
    const lastSeen = await this.presence.markOffline(conn.userId);
    if (lastSeen !== null && !this.hub.hasUser(conn.userId)) {
      await this.#announcePresence(conn.userId, false, lastSeen, convIds, known);
    }
  }

  async #follow(userId: string, convIds: string[]): Promise<void> {
    const fresh = this.hub.subscribe(userId, convIds);
    for (const convId of fresh) this.#followConv(convId);
    await Promise.all(convIds.map((c) => this.#streams.get(c)?.ready));
  }

  #followConv(convId: string): void {
    if (this.#streams.has(convId)) return;
    const seq = new Sequencer<Message>(
      (after, upTo) => messagesBetween(this.kv, convId, after, upTo),
      (m) => this.#deliverMessage(m),
    );
    const ready = (async () => {
      this.#heads.add(convId);
      const head = await getHead(this.kv, convId);
      seq.start(head.value?.seq ?? 0);
    })().catch((err) => log.error("could not follow conversation", { convId, error: String(err) }));
    this.#streams.set(convId, { seq, ready });
  }

  #unfollowConv(convId: string): void {
    const s = this.#streams.get(convId);
    if (!s) return;
    s.seq.stop();
    this.#streams.delete(convId);
    this.#heads.remove(convId);
    this.#meta.delete(convId);
  }

  #deliverMessage(m: Message): void {
    const key = m.conversationId + "\u0000" + m.id;
    const except = this.#exclude.get(key);
    if (except !== undefined) this.#exclude.delete(key);
    const raw = '{"type":"message","message":' + JSON.stringify(m) + "}";
    hot.deliveries += this.hub.toConversation(m.conversationId, raw, except);
  }

  /**
   * Notes, before a send is committed, which connection sent it: that connection is the one
   * that does not get the message back, by whichever path (local, channel, watch) it arrives.
   * Returns a function that forgets the note when the send stores nothing new.
   */
  expectOwn(convId: string, messageId: string, connId: string): () => void {
    const key = convId + "\u0000" + messageId;
    this.#exclude.set(key, connId);
    if (this.#exclude.size > 100_000) this.#exclude.delete(this.#exclude.keys().next().value!);
    return () => {
      if (this.#exclude.get(key) === connId) this.#exclude.delete(key);
    };
  }

  /** Publishes messages just committed here, to local sockets and to other isolates. */
  publishMessages(convId: string, msgs: Message[]): void {
    const stream = this.#streams.get(convId);
    if (stream) { for (const m of msgs) stream.seq.offer(m); }
    this.#bus.post({ t: "m", convId, msgs });
  }

  /**
   * Publishes events just appended to the log here. Membership changes take effect on this
   * isolate at once, before the caller answers, even while the log's sequencer is still
   * catching up on earlier events (their order among themselves does not matter: each
   * concerns one member); the sequencer then skips them.
   */
  publishEvents(items: LoggedEvent[]): void {
    for (const e of items) {
      const membership = e.event.type === "member_added" || e.event.type === "member_removed";
      // Not when the log's watch got there first (then it is applied already).
      if (membership && !(e.seq <= (this.#events.delivered ?? -1))) {
        this.#appliedEarly.add(e.seq);
        this.#applyEvent(e);
      }
      this.#events.offer(e);
    }
    // Seqs the sequencer passed without delivering (it started beyond them) are not skipped.
    const done = this.#events.delivered ?? -1;
    for (const seq of this.#appliedEarly) if (seq <= done) this.#appliedEarly.delete(seq);
    this.#bus.post({ t: "e", items });
  }

  /** A member is typing: other members' connections hear of it (at most once a second). */
  typing(userId: string, convId: string): void {
    if (!this.hub.isSubscribed(userId, convId)) return;
    const key = userId + "\u0000" + convId;
    const now = Date.now();
    if (now - (this.#typingLast.get(key) ?? 0) < TYPING_INTERVAL_MS) return;
    this.#typingLast.set(key, now);
    if (this.#typingLast.size > 10_000) this.#typingLast.clear();
    this.#deliverTyping(convId, userId);
    this.#bus.post({ t: "typing", convId, userId });
  }

  #deliverTyping(convId: string, userId: string): void {
    const raw = JSON.stringify({ type: "typing", conversationId: convId, userId });
    for (const u of this.hub.usersIn(convId)) if (u !== userId) this.hub.toUser(u, raw);
  }

  #onBus(e: BusEvent): void {
    if (this.#closed) return;
    switch (e.t) {
      case "m": {
        const stream = this.#streams.get(e.convId);
        if (stream) { for (const m of e.msgs) stream.seq.offer(m); }
        break;
      }
      case "e":
        for (const item of e.items) this.#events.offer(item);
        break;
      case "typing":
        this.#deliverTyping(e.convId, e.userId);
        break;
      case "presence":
        this.#queuePresence(e.userId, e.online, e.lastSeen, e.convIds);
        break;
    }
  }

  async #announcePresence(
    userId: string,
    online: boolean,
    lastSeen: number | null,
    convIds: string[],
    known?: Map<string, ConvMeta>,
  ): Promise<void> {
    const small = await this.#presenceConvs(convIds, known);
    // The user came or went while that was read: the newer announcement stands.
    if (online !== this.hub.hasUser(userId)) return;
    this.#queuePresence(userId, online, lastSeen, small);
    this.#bus.post({ t: "presence", userId, online, lastSeen, convIds: small });
  }

  /**
   * The conversations through which presence is announced: direct ones and small groups. What
   * it learns is kept only for conversations this isolate follows (their events keep it fresh).
   */
  async #presenceConvs(convIds: string[], known?: Map<string, ConvMeta>): Promise<string[]> {
    const meta = new Map<string, ConvMeta>();
    const unknown: string[] = [];
    for (const c of convIds) {
      const m = this.#meta.get(c) ?? known?.get(c);
      if (m) meta.set(c, m);
      else unknown.push(c);
    }
    if (unknown.length) {
      for (const c of await getConversations(this.kv, unknown)) {
        const m = { kind: c.kind, memberCount: c.memberCount };
        meta.set(c.id, m);
        if (this.#streams.has(c.id)) this.#meta.set(c.id, m);
      }
    }
    return convIds.filter((c) => {
      const m = meta.get(c);
      return m && (m.kind === "direct" || m.memberCount <= PRESENCE_GROUP_MAX);
    });
  }

  #noteRemoval(userId: string, convId: string): void {
    const now = Date.now();
    this.#removedAt.set(userId + "\u0000" + convId, now);
    // Only connects in progress need them, and a connect takes well under a minute.
    for (const [key, at] of this.#removedAt) {
      if (now - at > 60_000 || this.#removedAt.size > REMOVALS_KEPT) this.#removedAt.delete(key);
      else break;
    }
  }

  #queuePresence(userId: string, online: boolean, lastSeen: number | null, convIds: string[]) {
    const frame = JSON.stringify({ type: "presence", userId, online, lastSeen });
    this.#pendingPresence.set(userId, { frame, convIds });
    if (this.#presenceTimer === null) {
      this.#presenceTimer = setTimeout(() => this.#flushPresence(), PRESENCE_FLUSH_MS);
    }
  }

  #flushPresence(): void {
    this.#presenceTimer = null;
    const pending = this.#pendingPresence;
    this.#pendingPresence = new Map();
    for (const [userId, { frame, convIds }] of pending) {
      const recipients = new Set<string>();
      for (const c of convIds) {
        for (const u of this.hub.usersIn(c)) if (u !== userId) recipients.add(u);
      }
      for (const u of recipients) this.hub.toUser(u, frame);
    }
  }

  #applyEvent({ event }: LoggedEvent): void {
    switch (event.type) {
      case "revoke":
        for (const conn of [...this.hub.connections()]) {
          if (conn.sessionId === event.sessionId) conn.close(CLOSE.revoked, "session revoked");
        }
        break;
      case "receipt": {
        const raw = JSON.stringify({
          type: "receipt",
          conversationId: event.conversationId,
          userId: event.userId,
          seq: event.seq,
        });
        this.hub.toConversation(event.conversationId, raw, event.connectionId);
        break;
      }
      case "member_added":
        this.#removedAt.delete(event.userId + "\u0000" + event.conversationId);
        this.#meta.delete(event.conversationId);
        if (this.hub.hasUser(event.userId)) {
          this.#follow(event.userId, [event.conversationId]).catch(() => {});
        }
        this.#queueRefresh(event.conversationId);
        break;
      case "member_removed": {
        this.#noteRemoval(event.userId, event.conversationId);
        this.#meta.delete(event.conversationId);
        const raw = JSON.stringify({ type: "removed", conversationId: event.conversationId });
        if (this.hub.isSubscribed(event.userId, event.conversationId)) {
          this.hub.toUser(event.userId, raw);
          if (this.hub.unsubscribe(event.userId, event.conversationId)) {
            this.#unfollowConv(event.conversationId);
          }
        }
        this.#queueRefresh(event.conversationId);
        break;
      }
      case "conversation_changed":
        this.#queueRefresh(event.conversationId);
        break;
    }
  }

  /** Sends `conversation` frames to local members, coalescing bursts (a group of 5,000 made). */
  #queueRefresh(convId: string): void {
    this.#pendingRefresh.add(convId);
    if (this.#refreshTimer === null) {
      this.#refreshTimer = setTimeout(() => this.#flushRefresh(), CONV_REFRESH_MS);
    }
  }

  async #flushRefresh(): Promise<void> {
    this.#refreshTimer = null;
    const convIds = [...this.#pendingRefresh];
    this.#pendingRefresh.clear();
    for (const convId of convIds) {
      await this.#streams.get(convId)?.ready;
      await Promise.all([...this.hub.usersIn(convId)].map(async (userId) => {
        try {
          const conversation = await this.#viewer(userId, convId);
          if (conversation) this.send(userId, { type: "conversation", conversation });
        } catch (err) {
          log.warn("conversation frame failed", { convId, error: String(err) });
        }
      }));
    }
  }

  /** Sends a frame to every local connection of a user. */
  send(userId: string, frame: ServerFrame): void {
    this.hub.toUser(userId, JSON.stringify(frame));
  }

  #checkHeartbeats(): void {
    const deadline = Date.now() - this.config.heartbeatTimeoutMs;
    for (const conn of [...this.hub.connections()]) {
      if (conn.lastHeard < deadline) conn.close(CLOSE.heartbeatTimeout, "heartbeat timeout");
    }
  }

  /** Closes every connection with 1001 and stops; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#presenceTimer) clearTimeout(this.#presenceTimer);
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    const users = [...this.hub.users()];
    for (const conn of [...this.hub.connections()]) {
      conn.close(CLOSE.goingAway, "server restarting");
    }
    this.#heads.close();
    this.#eventsWatch.close();
    this.#events.stop();
    for (const s of this.#streams.values()) s.seq.stop();
    this.#bus.close();
    await this.presence.forget(users).catch(() => {});
  }
}
