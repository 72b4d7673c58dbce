/**
 * The realtime node of one isolate: it joins its connections (hub), the broker that delivers
 * messages and events in order, presence and `conversation` frames. It keeps connect and
 * disconnect, and applies membership changes to the hub. The socket handler and the chat
 * service (through its port) talk to it; it never talks HTTP.
 * @module
 */
import type { RealtimePort } from "../chat/port.ts";
import type { Config } from "../config.ts";
import { log } from "../log.ts";
import { CLOSE, DELETED_ACCOUNT, type Message } from "../protocol.ts";
import { listMemberships } from "../store/conversations.ts";
import type { StreamItem } from "../store/stream.ts";
import { getUser, publicUser } from "../store/users.ts";
import { BlockCache } from "./blocks.ts";
import type { LoggedEvent } from "../store/records.ts";
import { Broker, type BrokerEventHandler, type PresenceNote } from "./broker.ts";
import { Drain } from "../drain.ts";
import { hot } from "../metrics_hot.ts";
import { SocketCaps } from "./caps.ts";
import { type Connection, QueueBudget } from "./connection.ts";
import { Hub } from "./hub.ts";
import { Presence } from "./presence.ts";
import { ConversationRefresher, type ConversationViewer } from "./refresh.ts";
import { RecentRemovals } from "./removals.ts";
import { Typing } from "./typing.ts";

export class Realtime implements RealtimePort, BrokerEventHandler {
  readonly hub = new Hub();
  /** Shutdown state: the socket handler and the routes consult it (see lib/drain.ts). */
  readonly drain = new Drain();
  readonly broker: Broker;
  readonly presence: Presence;
  /** Bytes queued for slow readers over all of this isolate's sockets. */
  readonly queueBudget: QueueBudget;
  /** Sockets per user and per address, across isolates. */
  readonly caps: SocketCaps;
  #refresh: ConversationRefresher;
  /** convId + "\0" + messageId → the connection that sent it (see `expectOwn`). */
  #exclude = new Map<string, string>();
  #removed = new RecentRemovals();
  #typing: Typing;
  /** Who blocks whom, for presence and typing (a blocked user sees neither of the blocker). */
  readonly blocks: BlockCache;
  #timers: ReturnType<typeof setInterval>[] = [];
  #closed = false;

  /** @param viewer builds a user's view of a conversation for `conversation` frames. */
  constructor(
    private kv: Deno.Kv,
    private config: Config,
    readonly isolateId: string,
    viewer: ConversationViewer,
  ) {
    this.broker = new Broker(kv, config.broadcast);
    this.broker.register(this);
    this.presence = new Presence(kv, isolateId, this.hub, this.broker);
    this.queueBudget = new QueueBudget(config.queuedBytesTotal);
    this.caps = new SocketCaps(kv, isolateId, {
      perUser: config.maxSocketsPerUser,
      perAddress: config.maxSocketsPerAddress,
    });
    this.#refresh = new ConversationRefresher(this.hub, viewer, (c) => this.broker.ready(c));
    this.#typing = new Typing(this.hub, (c, u) => this.broker.publishTyping(c, u));
    this.blocks = new BlockCache(kv);
    const hides = (from: string, to: string) => this.blocks.hides(from, to);
    this.presence.hides = hides;
    this.#typing.hides = hides;
  }

  /** Starts following the event log, the heartbeat check and the presence refresh. */
  async start(): Promise<void> {
    await this.broker.start();
    const beat = Math.max(50, Math.min(5000, Math.floor(this.config.heartbeatTimeoutMs / 4)));
    this.#timers.push(setInterval(() => this.#checkHeartbeats(), beat));
    this.#timers.push(setInterval(() => {
      this.presence.markOnline([...this.hub.users()]).catch((err) =>
        log.warn("presence refresh failed", { error: String(err) })
      );
      this.caps.refresh().catch((err) =>
        log.warn("socket count refresh failed", { error: String(err) })
      );
    }, 30_000));
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
    const convIds = listed.filter((c) => !this.#removed.since(conn.userId, c, listedAt));
    if (conn.open && this.hub.hasUser(conn.userId)) await this.#follow(conn.userId, convIds);
    // The user's first connection here announces them, even if it closed meanwhile while
    // another one of theirs opened; with none left, `disconnect` already said they left.
    if (!first || !this.hub.hasUser(conn.userId)) return;
    await this.presence.markOnline([conn.userId]);
    await this.blocks.load(conn.userId);
    if (!this.hub.hasUser(conn.userId)) {
      // Gone while being marked online: `disconnect` may have run before that write landed.
      const lastSeen = await this.presence.markOffline(conn.userId);
      if (lastSeen !== null) await this.presence.announce(conn.userId, false, lastSeen, convIds);
      return;
    }
    await this.presence.announce(conn.userId, true, null, convIds);
  }

  /** Unregisters a connection; the user's last one going makes them offline. */
  async disconnect(conn: Connection): Promise<void> {
    // The user's conversations as this isolate follows them: no need to ask KV again.
    const convIds = [...this.hub.convsOf(conn.userId)];
    // What is known of them, before unfollowing forgets it (announcing must not re-read it).
    const known = this.presence.known(convIds);
    const { last, idle } = this.hub.remove(conn);
    for (const convId of idle) this.#unfollow(convId);
    if (!last || this.#closed) return;
    const lastSeen = await this.presence.markOffline(conn.userId);
    if (lastSeen !== null && !this.hub.hasUser(conn.userId)) {
      await this.blocks.load(conn.userId).catch(() => {});
      await this.presence.announce(conn.userId, false, lastSeen, convIds, known);
    }
  }

  async #follow(userId: string, convIds: string[]): Promise<void> {
    for (const convId of this.hub.subscribe(userId, convIds)) this.broker.follow(convId);
    await Promise.all(convIds.map((c) => this.broker.ready(c)));
  }

  #unfollow(convId: string): void {
    this.broker.unfollow(convId);
    this.presence.invalidate(convId);
  }

  isSubscribed(userId: string, convId: string): boolean {
    return this.hub.isSubscribed(userId, convId);
  }

  expectOwn(convId: string, messageId: string, connId: string): () => void {
    const key = convId + "\u0000" + messageId;
    this.#exclude.set(key, connId);
    if (this.#exclude.size > 100_000) this.#exclude.delete(this.#exclude.keys().next().value!);
    return () => {
      if (this.#exclude.get(key) === connId) this.#exclude.delete(key);
    };
  }

  publishMessages(convId: string, msgs: Message[]): void {
    this.broker.publishMessages(convId, msgs);
  }

  publishItems(convId: string, items: StreamItem[]): void {
    this.broker.publishItems(convId, items);
  }

  publishEvents(items: LoggedEvent[]): void {
    this.broker.publishEvents(items);
  }

  /** A member is typing: other members' connections hear of it (at most once a second). */
  typing(userId: string, convId: string): void {
    if (this.blocks.ready(userId)) this.#typing.local(userId, convId);
    else this.blocks.load(userId).then(() => this.#typing.local(userId, convId), () => {});
  }

  // ---- what the broker reports ---------------------------------------------------------------

  onMessage(item: StreamItem): void {
    const m = item.message;
    if (!m) return; // a change superseded before it was read: its successor delivers the state
    // A change goes to every connection but the one that made it (its ack carries the message).
    const key = m.conversationId + "\u0000" + (item.changeId ?? m.id);
    const except = this.#exclude.get(key);
    if (except !== undefined) this.#exclude.delete(key);
    const raw = item.seq === m.seq
      ? '{"type":"message","message":' + JSON.stringify(m) + "}"
      : '{"type":"update","conversationId":' + JSON.stringify(m.conversationId) + ',"seq":' +
        item.seq + ',"message":' + JSON.stringify(m) + "}";
    hot.deliveries += this.hub.toConversation(m.conversationId, raw, except);
  }

  onTyping(convId: string, userId: string): void {
    if (this.blocks.ready(userId)) this.#typing.deliver(convId, userId);
    else this.blocks.load(userId).then(() => this.#typing.deliver(convId, userId), () => {});
  }

  onPresence(note: PresenceNote): void {
    if (this.blocks.ready(note.userId)) this.presence.queue(note);
    else this.blocks.load(note.userId).then(() => this.presence.queue(note), () => {});
  }

  /**
   * Sends a user's new profile to this isolate's connections of everyone who shares a
   * conversation with them (and their own), each once. A deleted account goes out as such.
   */
  async #userChanged(userId: string): Promise<void> {
    const record = await getUser(this.kv, userId);
    const user = record
      ? publicUser(record)
      : { id: userId, username: "", displayName: DELETED_ACCOUNT, avatarUrl: null };
    const raw = JSON.stringify({ type: "user", user });
    const recipients = new Set<string>();
    if (this.hub.hasUser(userId)) recipients.add(userId);
    // One range read per isolate per change; each local listener gets the frame once.
    const convIds = record ? await listMemberships(this.kv, userId) : [];
    for (const c of convIds) for (const u of this.hub.usersIn(c)) recipients.add(u);
    for (const u of recipients) this.hub.toUser(u, raw);
  }

  onEvent({ event }: LoggedEvent): void {
    switch (event.type) {
      case "revoke":
        for (const conn of [...this.hub.connections()]) {
          if (conn.sessionId === event.sessionId) conn.close(CLOSE.revoked, "session revoked");
        }
        break;
      case "receipt": {
        const { conversationId, userId, seq } = event;
        const raw = JSON.stringify({ type: "receipt", conversationId, userId, seq });
        this.hub.toConversation(conversationId, raw, event.connectionId);
        break;
      }
      case "member_added":
        this.#removed.clear(event.userId, event.conversationId);
        this.presence.invalidate(event.conversationId);
        if (this.hub.hasUser(event.userId)) {
          this.#follow(event.userId, [event.conversationId]).catch(() => {});
        }
        this.#refresh.queue(event.conversationId);
        break;
      case "member_removed": {
        this.#removed.note(event.userId, event.conversationId);
        this.presence.invalidate(event.conversationId);
        if (this.hub.isSubscribed(event.userId, event.conversationId)) {
          const raw = JSON.stringify({ type: "removed", conversationId: event.conversationId });
          this.hub.toUser(event.userId, raw);
          if (this.hub.unsubscribe(event.userId, event.conversationId)) {
            this.#unfollow(event.conversationId);
          }
        }
        this.#refresh.queue(event.conversationId);
        break;
      }
      case "conversation_changed":
        this.#refresh.queue(event.conversationId);
        break;
      case "user_changed":
        this.#userChanged(event.userId).catch((err) =>
          log.warn("profile fan-out failed", { error: String(err) })
        );
        break;
      case "blocks_changed":
        this.blocks.forget(event.userId);
        break;
    }
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
    this.presence.close();
    this.#refresh.close();
    const users = [...this.hub.users()];
    for (const conn of [...this.hub.connections()]) {
      conn.close(CLOSE.goingAway, "server restarting");
    }
    this.broker.close();
    await Promise.all([
      this.presence.forget(users).catch(() => {}),
      this.caps.forget().catch(() => {}),
    ]);
  }
}
