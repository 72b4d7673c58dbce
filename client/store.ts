/**
 * The chat's client state (Preact signals) and everything that changes it: server frames,
 * sending with retries, sync on reconnect and on seq gaps, history paging, read cursors,
 * typing and presence. Built from the server-rendered props, so the first render on the
 * server and the hydration in the browser see the same state; `start()` (browser only) opens
 * the connection.
 * @module
 */
import { signal } from "@preact/signals";
import type {
  Conversation,
  Member,
  Message,
  ServerFrame,
  User,
  UserWithPresence,
} from "../lib/protocol.ts";
import { api } from "./api.ts";
import { Connection, type ConnectionState } from "./connection.ts";

/** What the server renders into the page and the island hydrates from. */
export interface ChatProps {
  me: User;
  conversations: Conversation[];
  openId: string | null;
  messages: Message[];
  hasMore: boolean;
  members: Member[] | null;
  /** For the page as it works without JavaScript (routes/chat.tsx): the id the message box's
   * form sends with (fresh per page, so submitting the same form twice stores one message),
   * what it held when a send was refused, and why. */
  form?: { sendId: string; draft?: string; notice?: string };
}

/** A message of ours not yet acked. */
export interface Outgoing {
  id: string;
  conversationId: string;
  body: string;
  ts: number;
  /** When it was last put on the wire (0: not yet); resent while unacked. */
  sentAt: number;
  /** Why the server refused it for good, if it did. */
  failed: string | null;
}

/** The messages and members the client holds for one conversation. */
export class Thread {
  /** Acked messages, ascending by seq, one per seq. */
  readonly messages = signal<Message[]>([]);
  readonly pending = signal<Outgoing[]>([]);
  /** Older history exists on the server. */
  readonly hasMore = signal(false);
  readonly loadingOlder = signal(false);
  readonly members = signal<Member[] | null>(null);
  /** Where the "New messages" line goes: after this seq. */
  readonly marker = signal<number | null>(null);
  /** Holds the latest page (and everything after it). */
  loaded = false;
  syncing = false;
  resync = false;
}

const RESEND_MS = 4_000;
/** Sync requests out at once: a user in hundreds of conversations must not spend the
 * connection's frame budget (a burst of 1,000) in one go on reconnect. */
const SYNCS_IN_FLIGHT = 8;
const TYPING_SHOWN_MS = 5_000;
const TYPING_EVERY_MS = 1_000;

const byActivity = (a: Conversation, b: Conversation) => b.lastActivityTs - a.lastActivityTs;

/** sessionStorage key of a conversation's unacked sends: they outlive a reload of the tab and
 * go out again with the same ids, which the server answers with the first ack. */
const PENDING_KEY = "parley:pending:";

/** The highest seq up to which a sorted, unique list has no holes. */
export function contiguousLast(messages: Message[]): number {
  if (!messages.length) return 0;
  let last = messages[0].seq;
  for (let i = 1; i < messages.length && messages[i].seq === last + 1; i++) last++;
  return last;
}

/** Merges messages into a sorted list, one per seq. */
export function mergeMessages(into: Message[], add: Message[]): Message[] {
  if (!add.length) return into;
  const tail = into.length ? into[into.length - 1].seq : 0;
  if (add.every((m, i) => m.seq > (i ? add[i - 1].seq : tail))) return [...into, ...add];
  const bySeq = new Map<number, Message>();
  for (const m of into) bySeq.set(m.seq, m);
  for (const m of add) if (!bySeq.has(m.seq)) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

export class ChatStore {
  readonly me: User;
  readonly conversations = signal<Conversation[]>([]);
  readonly openId = signal<string | null>(null);
  readonly status = signal<ConnectionState>("connecting");
  /** conversationId → userId → until when "is typing" shows. */
  readonly typing = signal<Record<string, Record<string, number>>>({});
  readonly notice = signal<string | null>(null);
  /** False until hydrated: the server renders times in UTC, the browser then switches to local. */
  readonly localTime = signal(false);
  readonly dialog = signal<"new" | "info" | null>(null);
  /** Whether the open conversation is scrolled to its end (set by the message list). */
  atBottom = true;
  /** The server's form state for the conversation the page opened with (see `ChatProps`). */
  readonly form: (NonNullable<ChatProps["form"]> & { conversationId: string }) | null;
  #threads = new Map<string, Thread>();
  #conn: Connection | null = null;
  #typingSent = new Map<string, number>();
  /** Conversations with a sync request on the current socket, and those waiting their turn. */
  #syncsOut = new Set<string>();
  #syncsWaiting = new Set<string>();
  /** Browser only (after `start()`): pending sends are mirrored to sessionStorage. */
  #persist = false;

  constructor(props: ChatProps) {
    this.me = props.me;
    this.conversations.value = [...props.conversations].sort(byActivity);
    this.openId.value = props.openId;
    this.form = props.form && props.openId ? { ...props.form, conversationId: props.openId } : null;
    this.notice.value = props.form?.notice ?? null;
    if (props.openId) {
      const t = this.thread(props.openId);
      t.messages.value = props.messages;
      t.hasMore.value = props.hasMore;
      t.members.value = props.members;
      t.loaded = true;
      this.#setMarker(props.openId);
    }
  }

  thread(id: string): Thread {
    let t = this.#threads.get(id);
    if (!t) this.#threads.set(id, t = new Thread());
    return t;
  }

  conversation(id: string | null): Conversation | undefined {
    return id ? this.conversations.value.find((c) => c.id === id) : undefined;
  }

  /** Browser only: connects, and follows history navigation and tab visibility. */
  start(): void {
    this.localTime.value = true;
    this.#persist = true;
    this.#restorePending();
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    this.#conn = new Connection({
      url: `${proto}//${location.host}/api/ws`,
      onFrame: (f) => this.handle(f),
      onReady: () => this.#onReady(),
      onState: (s) => this.status.value = s,
      onSignedOut: () => location.assign("/login"),
    });
    this.#conn.start();
    addEventListener("popstate", () => {
      const m = /^\/chat\/([^/]+)/.exec(location.pathname);
      this.open(m ? decodeURIComponent(m[1]) : null, false);
    });
    document.addEventListener("visibilitychange", () => this.#onVisible());
    setInterval(() => this.#tick(), 1_000);
  }

  // ---- connection ----------------------------------------------------------------------------

  async #onReady(): Promise<void> {
    // Answers to the old socket's sync requests will never come: start every sync afresh.
    this.#syncsOut.clear();
    this.#syncsWaiting.clear();
    for (const t of this.#threads.values()) {
      t.syncing = false;
      t.resync = false;
      for (const o of t.pending.value) o.sentAt = 0;
    }
    this.#resend();
    this.markRead();
    // The list brings every conversation's summary up to date in one request and syncs the
    // open threads that fell behind; without it, each conversation is synced, a few at a time.
    try {
      await this.refreshList();
    } catch {
      for (const c of this.conversations.value) this.sync(c.id);
    }
  }

  /** Applies one server frame. */
  handle(f: ServerFrame): void {
    switch (f.type) {
      case "message":
        this.#onMessages(f.message.conversationId, [f.message], true);
        break;
      case "messages":
        this.#onSynced(f.conversationId, f.messages, f.hasMore);
        break;
      case "ack":
        this.#onAck(f);
        break;
      case "error":
        this.#onError(f);
        break;
      case "receipt":
        this.#onReceipt(f.conversationId, f.userId, f.seq);
        break;
      case "typing":
        if (f.userId !== this.me.id) {
          const all = { ...this.typing.value };
          all[f.conversationId] = {
            ...all[f.conversationId],
            [f.userId]: Date.now() + TYPING_SHOWN_MS,
          };
          this.typing.value = all;
        }
        break;
      case "presence":
        this.#onPresence(f.userId, f.online, f.lastSeen);
        break;
      case "conversation":
        this.#upsert(f.conversation);
        if (f.conversation.id === this.openId.value) {
          document.title = `${f.conversation.title} · Parley`;
        }
        this.#catchUp(f.conversation.id);
        if (
          f.conversation.kind === "group" && this.#threads.get(f.conversation.id)?.members.value
        ) {
          this.refreshMembers(f.conversation.id);
        }
        break;
      case "removed":
        this.#onRemoved(f.conversationId);
        break;
    }
  }

  // ---- messages ------------------------------------------------------------------------------

  #onMessages(convId: string, msgs: Message[], live: boolean): void {
    const conv = this.conversation(convId);
    if (!conv) {
      this.refreshList().catch(() => {});
      return;
    }
    const t = this.thread(convId);
    const ids = new Set(msgs.map((m) => m.id));
    const senders = new Set(msgs.map((m) => m.senderId));
    if (t.pending.value.some((o) => ids.has(o.id))) {
      this.#setPending(convId, t.pending.value.filter((o) => !ids.has(o.id)));
    }
    this.#clearTyping(convId, senders);
    const top = msgs.reduce((a, m) => (m.seq > a.seq ? m : a), msgs[0]);
    const mine = msgs.filter((m) => m.senderId === this.me.id).reduce(
      (a, m) => Math.max(a, m.seq),
      0,
    );
    this.#update(convId, (c) => {
      const lastReadSeq = Math.max(c.lastReadSeq, mine);
      const newer = top && top.seq > c.lastSeq;
      const lastSeq = newer ? top.seq : c.lastSeq;
      return {
        ...c,
        lastSeq,
        lastReadSeq,
        lastMessage: newer ? top : c.lastMessage,
        lastActivityTs: newer ? Math.max(c.lastActivityTs, top.ts) : c.lastActivityTs,
        unread: Math.max(0, lastSeq - lastReadSeq),
      };
    });
    if (t.loaded) {
      t.messages.value = mergeMessages(t.messages.value, msgs);
      if (live && top.seq > contiguousLast(t.messages.value)) this.sync(convId);
    }
    if (convId === this.openId.value) {
      if (!this.atBottom && live && t.marker.value === null) t.marker.value = top.seq - 1;
      this.markRead();
    }
  }

  /** Asks for what follows the last seq held (a loaded thread) or the last seq known (a list
   * entry); the answer loops while `hasMore`. */
  sync(convId: string): void {
    const t = this.thread(convId);
    if (t.syncing) {
      t.resync = true;
      return;
    }
    if (this.#syncsOut.size >= SYNCS_IN_FLIGHT) {
      this.#syncsWaiting.add(convId);
      return;
    }
    const afterSeq = t.loaded
      ? contiguousLast(t.messages.value)
      : this.conversation(convId)?.lastSeq;
    if (afterSeq === undefined) return;
    t.syncing = !!this.#conn?.send({
      type: "sync",
      conversationId: convId,
      afterSeq,
      reqId: "sync:" + convId,
    });
    if (t.syncing) this.#syncsOut.add(convId);
  }

  /** A sync request was answered (or refused): the next waiting one may go. */
  #syncDone(convId: string): void {
    this.thread(convId).syncing = false;
    this.#syncsOut.delete(convId);
    for (const next of this.#syncsWaiting) {
      if (this.#syncsOut.size >= SYNCS_IN_FLIGHT) break;
      this.#syncsWaiting.delete(next);
      this.sync(next);
    }
  }

  #onSynced(convId: string, msgs: Message[], hasMore: boolean): void {
    const t = this.thread(convId);
    this.#syncDone(convId);
    if (msgs.length) this.#onMessages(convId, msgs, false);
    if (!t.loaded && hasMore) {
      // Only the list entry is held: its summary comes cheaper from the list than by paging.
      this.refreshList().catch(() => {});
    } else if (hasMore || t.resync) {
      t.resync = false;
      this.sync(convId);
    }
  }

  #catchUp(convId: string): void {
    const t = this.#threads.get(convId);
    const c = this.conversation(convId);
    if (t?.loaded && c && c.lastSeq > contiguousLast(t.messages.value)) this.sync(convId);
  }

  /** Sends a message: shown at once as pending, resent with the same id until acked. */
  send(convId: string, body: string): void {
    if (!body.trim()) return;
    const t = this.thread(convId);
    const o: Outgoing = {
      id: crypto.randomUUID(),
      conversationId: convId,
      body,
      ts: Date.now(),
      sentAt: 0,
      failed: null,
    };
    this.#setPending(convId, [...t.pending.value, o]);
    // Writing is answering: the "New messages" line has done its job.
    t.marker.value = null;
    this.#typingSent.delete(convId);
    this.#resend();
  }

  /** Tries a refused message again. */
  retry(convId: string, id: string): void {
    const t = this.thread(convId);
    this.#setPending(
      convId,
      t.pending.value.map((o) => o.id === id ? { ...o, failed: null, sentAt: 0 } : o),
    );
    this.#resend();
  }

  #resend(): void {
    const now = Date.now();
    for (const t of this.#threads.values()) {
      for (const o of t.pending.value) {
        if (o.failed || now - o.sentAt < RESEND_MS) continue;
        const sent = this.#conn?.send({
          type: "send",
          id: o.id,
          conversationId: o.conversationId,
          body: o.body,
        });
        if (sent) o.sentAt = now;
      }
    }
  }

  #onAck(f: { id: string; conversationId: string; seq: number; ts: number }): void {
    const t = this.thread(f.conversationId);
    const o = t.pending.value.find((p) => p.id === f.id);
    if (!o) return;
    this.#onMessages(f.conversationId, [{
      id: o.id,
      conversationId: o.conversationId,
      seq: f.seq,
      senderId: this.me.id,
      kind: "text",
      body: o.body,
      ts: f.ts,
    }], true);
  }

  #onError(f: Extract<ServerFrame, { type: "error" }>): void {
    if (f.reqId?.startsWith("sync:")) {
      const convId = f.reqId.slice(5);
      this.#syncDone(convId);
      if (f.error.code === "not_found") this.#onRemoved(convId);
      return;
    }
    if (!f.id) return;
    for (const [convId, t] of this.#threads) {
      const o = t.pending.value.find((p) => p.id === f.id);
      if (!o) continue;
      if (f.error.code === "rate_limited") {
        o.sentAt = Date.now() + (f.error.retryAfterMs ?? 1000) - RESEND_MS;
      } else {
        this.#setPending(
          convId,
          t.pending.value.map((p) => p === o ? { ...p, failed: f.error.message } : p),
        );
      }
    }
  }

  /** Loads the page of history just above what the open thread holds. */
  async loadOlder(convId: string): Promise<void> {
    const t = this.thread(convId);
    if (!t.loaded || !t.hasMore.value || t.loadingOlder.value) return;
    t.loadingOlder.value = true;
    try {
      const oldest = t.messages.value[0]?.seq ?? 0;
      const page = await api<{ messages: Message[]; hasMore: boolean }>(
        "GET",
        `/api/conversations/${encodeURIComponent(convId)}/messages?before=${oldest}&limit=50`,
      );
      t.messages.value = mergeMessages(t.messages.value, page.messages);
      t.hasMore.value = page.hasMore;
    } finally {
      t.loadingOlder.value = false;
    }
  }

  // ---- opening and reading -------------------------------------------------------------------

  /** Shows a conversation (or the list, with null); loads what the client does not hold. */
  async open(id: string | null, push = true): Promise<void> {
    if (push) history.pushState(null, "", id ? `/chat/${encodeURIComponent(id)}` : "/chat");
    this.notice.value = null;
    this.dialog.value = null;
    this.atBottom = true;
    this.openId.value = id;
    const conv = this.conversation(id);
    document.title = conv ? `${conv.title} · Parley` : "Parley";
    if (!id) return;
    const t = this.thread(id);
    this.#setMarker(id);
    this.refreshMembers(id);
    if (!t.loaded) {
      try {
        const page = await api<{ messages: Message[]; hasMore: boolean }>(
          "GET",
          `/api/conversations/${encodeURIComponent(id)}/messages?limit=50`,
        );
        t.messages.value = mergeMessages(t.messages.value, page.messages);
        t.hasMore.value = page.hasMore;
        t.loaded = true;
      } catch {
        this.notice.value = "That conversation could not be loaded.";
        return;
      }
    }
    this.#catchUp(id);
    this.markRead();
  }

  #setMarker(id: string): void {
    const c = this.conversation(id);
    this.thread(id).marker.value = c && c.unread > 0 ? c.lastReadSeq : null;
  }

  /** Fetches a conversation's members (roles, presence, read cursors). */
  async refreshMembers(id: string): Promise<void> {
    try {
      const d = await api<{ conversation: Conversation; members: Member[] }>(
        "GET",
        `/api/conversations/${encodeURIComponent(id)}`,
      );
      this.thread(id).members.value = d.members;
      this.#upsert(d.conversation);
    } catch { /* the list still works without it */ }
  }

  /** Back in the tab: the "New messages" line now marks what came while it was hidden (or goes,
   * when nothing did), then what is shown counts as read. */
  #onVisible(): void {
    if (document.visibilityState !== "visible") return;
    const id = this.openId.value;
    if (id && this.atBottom) this.#setMarker(id);
    this.markRead();
  }

  /** Replaces a conversation's pending sends and mirrors them to sessionStorage. */
  #setPending(convId: string, list: Outgoing[]): void {
    this.thread(convId).pending.value = list;
    if (!this.#persist) return;
    try {
      const key = PENDING_KEY + convId;
      if (list.length) {
        sessionStorage.setItem(
          key,
          JSON.stringify(list.map(({ sentAt: _, ...o }) => o)),
        );
      } else sessionStorage.removeItem(key);
    } catch { /* storage full or blocked: they are only kept in memory */ }
  }

  /** Takes back the sends a previous page in this tab had not seen acked. Those the server
   * rendered already (acked, the ack lost) are dropped; the rest go out again on `ready`. */
  #restorePending(): void {
    let keys: string[];
    try {
      keys = Object.keys(sessionStorage).filter((k) => k.startsWith(PENDING_KEY));
    } catch {
      return;
    }
    for (const key of keys) {
      const convId = key.slice(PENDING_KEY.length);
      let saved: Outgoing[] = [];
      try {
        saved = JSON.parse(sessionStorage.getItem(key) ?? "[]");
      } catch { /* unreadable: dropped below */ }
      if (!this.conversation(convId) || !Array.isArray(saved)) {
        sessionStorage.removeItem(key);
        continue;
      }
      const t = this.thread(convId);
      const have = new Set([...t.messages.value, ...t.pending.value].map((m) => m.id));
      const back = saved.filter((o) => o && typeof o.id === "string" && !have.has(o.id))
        .map((o) => ({ ...o, conversationId: convId, sentAt: 0 }));
      this.#setPending(convId, [...t.pending.value, ...back]);
    }
  }

  /** Moves the read cursor to the newest message shown, if the reader can see it. */
  markRead(): void {
    const id = this.openId.value;
    const c = this.conversation(id);
    if (!id || !c || !this.atBottom || document.visibilityState !== "visible") return;
    const t = this.thread(id);
    const shown = t.messages.value.at(-1)?.seq ?? 0;
    if (!t.loaded || shown <= c.lastReadSeq) return;
    if (!this.#conn?.send({ type: "read", conversationId: id, seq: shown })) return;
    this.#update(id, (x) => ({
      ...x,
      lastReadSeq: shown,
      unread: Math.max(0, x.lastSeq - shown),
    }));
  }

  /** Tells the others we are typing, at most once a second per conversation. */
  typingNow(convId: string): void {
    const now = Date.now();
    if (now - (this.#typingSent.get(convId) ?? 0) < TYPING_EVERY_MS) return;
    if (this.#conn?.send({ type: "typing", conversationId: convId })) {
      this.#typingSent.set(convId, now);
    }
  }

  // ---- list, receipts, presence, membership --------------------------------------------------

  #update(id: string, fn: (c: Conversation) => Conversation): void {
    const list = this.conversations.value.map((c) => (c.id === id ? fn(c) : c));
    this.conversations.value = list.sort(byActivity);
  }

  #upsert(conv: Conversation): void {
    const rest = this.conversations.value.filter((c) => c.id !== conv.id);
    const held = this.conversation(conv.id);
    // Never step back: a view built before a message we already show must not undo it.
    const merged = held && held.lastSeq > conv.lastSeq
      ? {
        ...conv,
        lastSeq: held.lastSeq,
        lastMessage: held.lastMessage,
        lastActivityTs: held.lastActivityTs,
      }
      : conv;
    if (held) merged.lastReadSeq = Math.max(held.lastReadSeq, merged.lastReadSeq);
    merged.unread = Math.max(0, merged.lastSeq - merged.lastReadSeq);
    this.conversations.value = [...rest, merged].sort(byActivity);
  }

  /** Reloads the conversation list (after a reconnect, or on news of an unknown one). */
  async refreshList(): Promise<void> {
    // A conversation that arrives (by frame) while the list is being fetched is not missing
    // from it: only those known before the request can have been left.
    const before = new Set(this.conversations.value.map((c) => c.id));
    const { conversations } = await api<{ conversations: Conversation[] }>(
      "GET",
      "/api/conversations",
    );
    const ids = new Set(conversations.map((c) => c.id));
    for (const c of this.conversations.value) {
      if (!ids.has(c.id) && before.has(c.id)) this.#onRemoved(c.id);
    }
    for (const c of conversations) {
      this.#upsert(c);
      this.#catchUp(c.id);
    }
  }

  #onReceipt(convId: string, userId: string, seq: number): void {
    if (userId === this.me.id) {
      this.#update(convId, (c) => {
        const lastReadSeq = Math.max(c.lastReadSeq, seq);
        return { ...c, lastReadSeq, unread: Math.max(0, c.lastSeq - lastReadSeq) };
      });
      return;
    }
    const t = this.#threads.get(convId);
    if (t?.members.value) {
      t.members.value = t.members.value.map((m) =>
        m.id === userId && m.lastReadSeq < seq ? { ...m, lastReadSeq: seq } : m
      );
    }
  }

  #onPresence(userId: string, online: boolean, lastSeen: number | null): void {
    if (this.conversations.value.some((c) => c.peer?.id === userId)) {
      this.conversations.value = this.conversations.value.map((c) =>
        c.peer?.id === userId ? { ...c, peer: { ...c.peer, online, lastSeen } } : c
      );
    }
    for (const t of this.#threads.values()) {
      if (t.members.value?.some((m) => m.id === userId)) {
        t.members.value = t.members.value.map((m) => m.id === userId ? { ...m, online } : m);
      }
    }
  }

  #onRemoved(convId: string): void {
    const conv = this.conversation(convId);
    this.conversations.value = this.conversations.value.filter((c) => c.id !== convId);
    if (this.#threads.get(convId)?.pending.value.length) this.#setPending(convId, []);
    this.#threads.delete(convId);
    if (this.openId.value === convId) {
      this.open(null);
      if (conv) this.notice.value = `You are no longer in “${conv.title}”.`;
    }
  }

  /** Finds users to talk to (not yourself). */
  async searchUsers(q: string): Promise<UserWithPresence[]> {
    if (!q.trim()) return [];
    const { users } = await api<{ users: UserWithPresence[] }>(
      "GET",
      `/api/users?q=${encodeURIComponent(q.trim())}`,
    );
    return users.filter((u) => u.id !== this.me.id);
  }

  /** Starts (or finds) a direct chat, or creates a group, and opens it. */
  async create(
    input: { kind: "direct"; userId: string } | {
      kind: "group";
      title: string;
      memberIds: string[];
    },
  ): Promise<void> {
    const { conversation } = await api<{ conversation: Conversation }>(
      "POST",
      "/api/conversations",
      input,
    );
    this.#upsert(conversation);
    await this.open(conversation.id);
  }

  async addMember(convId: string, userId: string): Promise<void> {
    await api("POST", `/api/conversations/${encodeURIComponent(convId)}/members`, { userId });
    await this.refreshMembers(convId);
  }

  /** Renames a group (owner or admin); the others' pages follow from the `conversation` frame. */
  async rename(convId: string, title: string): Promise<void> {
    await api("PATCH", `/api/conversations/${encodeURIComponent(convId)}`, { title });
    this.#update(convId, (c) => ({ ...c, title }));
    if (convId === this.openId.value) document.title = `${title} · Parley`;
  }

  /** Makes a member an admin or a plain member again (owner only). */
  async setRole(convId: string, userId: string, role: "admin" | "member"): Promise<void> {
    await api(
      "PATCH",
      `/api/conversations/${encodeURIComponent(convId)}/members/${encodeURIComponent(userId)}`,
      { role },
    );
    await this.refreshMembers(convId);
  }

  /** Removes a member; removing yourself leaves the group. */
  async removeMember(convId: string, userId: string): Promise<void> {
    await api(
      "DELETE",
      `/api/conversations/${encodeURIComponent(convId)}/members/${encodeURIComponent(userId)}`,
    );
    if (userId === this.me.id) this.#onRemoved(convId);
    else await this.refreshMembers(convId);
  }

  // ---- timers --------------------------------------------------------------------------------

  #tick(): void {
    this.#resend();
    const now = Date.now();
    let changed = false;
    const all: Record<string, Record<string, number>> = {};
    for (const [convId, users] of Object.entries(this.typing.value)) {
      const alive = Object.entries(users).filter(([, until]) => until > now);
      if (alive.length !== Object.keys(users).length) changed = true;
      if (alive.length) all[convId] = Object.fromEntries(alive);
    }
    if (changed) this.typing.value = all;
  }

  #clearTyping(convId: string, senders: Set<string>): void {
    const users = this.typing.value[convId];
    if (!users || ![...senders].some((s) => s in users)) return;
    const left = Object.fromEntries(Object.entries(users).filter(([u]) => !senders.has(u)));
    this.typing.value = { ...this.typing.value, [convId]: left };
  }
}
