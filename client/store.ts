/**
 * What changes the chat's client state (state.ts): server frames, opening and reading
 * conversations, sends, syncs and typing. `start()` (browser only) connects. The rules it
 * applies live beside it, each with its test: the frame reducer (reducer.ts), the outbox of
 * unacked sends (outbox.ts), the sync queue (sync.ts), the addresses (nav.ts); calls to the
 * REST API go through actions.ts and api.ts, the socket through connection.ts.
 * @module
 */
import type { Message, ServerFrame } from "../lib/protocol.ts";
import { ChatActions } from "./actions.ts";
import * as api from "./api.ts";
import { Connection } from "./connection.ts";
import { chatPath, openIdFromPath, pageTitle } from "./nav.ts";
import { Outbox } from "./outbox.ts";
import { Uploads } from "./uploads.ts";
import * as r from "./reducer.ts";
import { ChatState } from "./state.ts";
import { syncOf, SyncQueue } from "./sync.ts";

export type { Outgoing } from "./outbox.ts";
export type { ChatProps, Thread } from "./state.ts";

const TYPING_SHOWN_MS = 5_000;
const TYPING_EVERY_MS = 1_000;

export class ChatStore extends ChatState {
  /** What goes through the REST API: history pages, members, search, create, group changes. */
  readonly actions = new ChatActions(this);
  #conn: Connection | null = null;
  #typingSent = new Map<string, number>();
  readonly #outbox = new Outbox({
    transport: (f) => this.#conn?.send(f) ?? false,
    onChange: (convId, list) => this.thread(convId).pending.value = list,
  });
  /** Files on their way up; each, once stored, is sent as a message through the outbox. */
  readonly uploads = new Uploads({
    upload: api.uploadFile,
    onUploaded: (convId, attachment, caption) => this.#outbox.add(convId, caption, attachment),
  });
  readonly #syncs = new SyncQueue({
    send: (conversationId, afterSeq, reqId) =>
      this.#conn?.send({ type: "sync", conversationId, afterSeq, reqId }) ?? false,
    afterSeq: (convId) => {
      const t = this.heldThread(convId);
      return t?.loaded ? r.contiguousLast(t.messages.value) : this.conversation(convId)?.lastSeq;
    },
  });

  /** Browser only: connects, restores unacked sends, and follows history navigation and tab
   * visibility. */
  start(): void {
    this.localTime.value = true;
    this.#outbox.attach(
      sessionStorage,
      (id) => !!this.conversation(id),
      (id) => new Set(this.thread(id).messages.value.map((m) => m.id)),
    );
    this.#conn = new Connection({
      url: api.socketUrl(location),
      onFrame: (f) => this.handle(f),
      onReady: () => this.#onReady(),
      onState: (s) => this.status.value = s,
      onSignedOut: () => location.assign("/login"),
    });
    this.#conn.start();
    addEventListener("popstate", () => this.open(openIdFromPath(location.pathname), false));
    document.addEventListener("visibilitychange", () => this.#onVisible());
    setInterval(() => this.#tick(), 1_000);
  }

  async #onReady(): Promise<void> {
    this.#syncs.reset();
    this.#outbox.reset();
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
        return this.#onMessages(f.message.conversationId, [f.message], true);
      case "messages":
        return this.#onSynced(f.conversationId, f.messages, f.hasMore);
      case "ack": {
        const o = this.#outbox.find(f.conversationId, f.id);
        if (!o) return;
        return this.#onMessages(f.conversationId, [r.ackedMessage(o, f, this.me.id)], true);
      }
      case "error": {
        const convId = syncOf(f.reqId);
        if (convId !== null) {
          this.#syncs.done(convId);
          if (f.error.code === "not_found") this.removed(convId);
        } else if (f.id) this.#outbox.refused(f.id, f.error);
        return;
      }
      case "receipt":
        if (f.userId === this.me.id) {
          this.update(f.conversationId, (c) => r.readUpTo(c, f.seq));
        } else {
          const t = this.heldThread(f.conversationId);
          if (t?.members.value) {
            t.members.value = r.withMemberRead(t.members.value, f.userId, f.seq);
          }
        }
        return;
      case "typing":
        if (f.userId === this.me.id) return;
        this.typing.value = r.typingStarted(
          this.typing.value,
          f.conversationId,
          f.userId,
          Date.now() + TYPING_SHOWN_MS,
        );
        return;
      case "presence":
        this.conversations.value = r.withPeerPresence(
          this.conversations.value,
          f.userId,
          f.online,
          f.lastSeen,
        );
        for (const t of this.threads()) {
          if (t.members.value) {
            t.members.value = r.withMemberPresence(t.members.value, f.userId, f.online);
          }
        }
        return;
      case "conversation": {
        const c = f.conversation;
        this.upsert(c);
        if (c.id === this.openId.value) document.title = pageTitle(c.title);
        this.#catchUp(c.id);
        if (c.kind === "group" && this.heldThread(c.id)?.members.value) {
          this.actions.refreshMembers(c.id);
        }
        return;
      }
      case "removed":
        return this.removed(f.conversationId);
    }
  }

  #onMessages(convId: string, msgs: Message[], live: boolean): void {
    if (!this.conversation(convId)) {
      this.refreshList().catch(() => {});
      return;
    }
    const t = this.thread(convId);
    this.#outbox.delivered(convId, new Set(msgs.map((m) => m.id)));
    this.typing.value = r.typingStopped(
      this.typing.value,
      convId,
      new Set(msgs.map((m) => m.senderId)),
    );
    this.update(convId, (c) => r.withMessages(c, msgs, this.me.id));
    // Another member's message brings an archived conversation back, unless it is muted.
    const c = this.conversation(convId);
    if (live && c?.archived && !c.muted && msgs.some((m) => m.senderId !== this.me.id)) {
      this.update(convId, (x) => ({ ...x, archived: false }));
    }
    const top = Math.max(...msgs.map((m) => m.seq));
    if (t.loaded) {
      t.messages.value = r.mergeMessages(t.messages.value, msgs);
      if (live && top > r.contiguousLast(t.messages.value)) this.sync(convId);
    }
    if (convId === this.openId.value) {
      if (!this.atBottom && live && t.marker.value === null) t.marker.value = top - 1;
      this.markRead();
    }
  }

  /** Asks for what follows what the client holds; the answer loops while `hasMore`. */
  sync(convId: string): void {
    this.#syncs.request(convId);
  }

  #onSynced(convId: string, msgs: Message[], hasMore: boolean): void {
    const t = this.thread(convId);
    this.#syncs.done(convId);
    if (msgs.length) this.#onMessages(convId, msgs, false);
    if (!t.loaded && hasMore) {
      // Only the list entry is held: its summary comes cheaper from the list than by paging.
      this.refreshList().catch(() => {});
    } else if (this.#syncs.takeAgain(convId) || hasMore) {
      this.sync(convId);
    }
  }

  /** Syncs a loaded thread that is behind its conversation's summary. */
  #catchUp(convId: string): void {
    const t = this.heldThread(convId);
    const c = this.conversation(convId);
    if (t?.loaded && c && c.lastSeq > r.contiguousLast(t.messages.value)) this.sync(convId);
  }

  /** Sends a message: shown at once as pending, resent with the same id until acked. */
  send(convId: string, body: string): void {
    if (!body.trim()) return;
    // Writing is answering: the "New messages" line has done its job.
    this.thread(convId).marker.value = null;
    this.#typingSent.delete(convId);
    this.#outbox.add(convId, body);
  }

  /** Uploads files (picked, dropped or pasted) and sends each as an image or file message. */
  attach(convId: string, files: Iterable<File>): void {
    this.thread(convId).marker.value = null;
    this.atBottom = true;
    for (const f of files) this.uploads.add(convId, f, f.name || "file");
  }

  /** Tries a refused message again. */
  retry(convId: string, id: string): void {
    this.#outbox.retry(convId, id);
  }

  /** Shows a conversation (or the list, with null); loads what the client does not hold. */
  async open(id: string | null, push = true): Promise<void> {
    if (push) history.pushState(null, "", chatPath(id));
    this.notice.value = null;
    this.viewer.value = null;
    this.dialog.value = null;
    this.atBottom = true;
    this.openId.value = id;
    document.title = pageTitle(this.conversation(id)?.title);
    if (!id) return;
    const t = this.thread(id);
    this.setMarker(id);
    this.actions.refreshMembers(id);
    if (!t.loaded) {
      try {
        const page = await api.getMessages(id);
        t.messages.value = r.mergeMessages(t.messages.value, page.messages);
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

  /** Back in the tab: the "New messages" line now marks what came while it was hidden (or goes,
   * when nothing did), then what is shown counts as read. */
  #onVisible(): void {
    if (document.visibilityState !== "visible") return;
    const id = this.openId.value;
    if (id && this.atBottom) this.setMarker(id);
    this.markRead();
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
    this.update(id, (x) => r.readUpTo(x, shown));
  }

  /** Tells the others we are typing, at most once a second per conversation. */
  typingNow(convId: string): void {
    const now = Date.now();
    if (now - (this.#typingSent.get(convId) ?? 0) < TYPING_EVERY_MS) return;
    if (this.#conn?.send({ type: "typing", conversationId: convId })) {
      this.#typingSent.set(convId, now);
    }
  }

  /**
   * Reloads the list's first page (after a reconnect, or on news of an unknown conversation:
   * one that rose from further down comes first). Conversations the page should hold but does
   * not (their activity is within its span) were left; those further down stay as they are.
   */
  async refreshList(): Promise<void> {
    // A conversation that arrives (by frame) while the list is being fetched is not missing
    // from it: only those known before the request can have been left.
    const before = new Set(this.conversations.value.map((c) => c.id));
    const { conversations, nextCursor } = await api.listConversations();
    const ids = new Set(conversations.map((c) => c.id));
    const floor = nextCursor ? conversations.at(-1)?.lastActivityTs ?? Infinity : -Infinity;
    for (const c of this.conversations.value) {
      if (!ids.has(c.id) && before.has(c.id) && !c.archived && c.lastActivityTs > floor) {
        this.removed(c.id);
      }
    }
    for (const c of conversations) {
      this.upsert(c);
      this.#catchUp(c.id);
    }
    if (!this.#pagedFurther) this.listCursor.value = nextCursor;
  }

  /** Whether the main list holds pages beyond the first (its cursor is then its own). */
  #pagedFurther = false;

  /** Loads the next page of the list shown (main or archived), if any is left. */
  async loadMore(): Promise<void> {
    const archived = this.showArchived.value;
    const cursor = archived ? this.archivedCursor.value : this.listCursor.value;
    if (this.loadingMore.value || cursor === null) return;
    this.loadingMore.value = true;
    try {
      const page = await api.listConversations({ cursor, archived });
      for (const c of page.conversations) this.upsert(c);
      if (archived) this.archivedCursor.value = page.nextCursor;
      else {
        this.listCursor.value = page.nextCursor;
        this.#pagedFurther = true;
      }
    } catch {
      this.notice.value = "More conversations could not be loaded. Scroll to try again.";
    } finally {
      this.loadingMore.value = false;
    }
  }

  /** Shows the archived conversations (loading their first page) or the others. */
  showArchivedList(on: boolean): void {
    this.showArchived.value = on;
    if (on && this.archivedCursor.value === undefined) this.loadMore();
  }

  /** Archives or unarchives a conversation for this user; the list follows at once. */
  async setArchived(id: string, archived: boolean): Promise<void> {
    try {
      await api.setSettings(id, { archived });
      this.update(id, (c) => ({ ...c, archived }));
    } catch {
      this.notice.value = archived
        ? "That conversation could not be archived. Please try again."
        : "That conversation could not be unarchived. Please try again.";
    }
  }

  /** We are no longer in a conversation (removed, or we left): it goes from the list. */
  removed(convId: string): void {
    const conv = this.conversation(convId);
    this.conversations.value = this.conversations.value.filter((c) => c.id !== convId);
    this.#outbox.drop(convId);
    this.dropThread(convId);
    if (this.openId.value === convId) {
      this.open(null);
      if (conv) this.notice.value = `You are no longer in “${conv.title}”.`;
    }
  }

  /** Each second: resends what is due, and drops typing lines whose time is up. */
  #tick(): void {
    this.#outbox.flush();
    this.typing.value = r.typingExpired(this.typing.value, Date.now());
  }
}
