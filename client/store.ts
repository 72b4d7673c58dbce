/**
 * What changes the chat's client state (state.ts): server frames, opening and reading
 * conversations, sends, syncs and typing. `start()` (browser only) connects. The rules it
 * applies live beside it, each with its test: the frame reducer (reducer.ts), the outbox of
 * unacked sends (outbox.ts), the sync queue (sync.ts), the addresses (nav.ts); calls to the
 * REST API go through actions.ts and api.ts, the socket through connection.ts.
 * @module
 */
import { effect } from "@preact/signals";
import type { Message, ServerFrame } from "../lib/protocol.ts";
import { ChatActions } from "./actions.ts";
import * as api from "./api.ts";
import {
  advanced,
  applyMessages,
  type ChangeFrame,
  ChangeQueue,
  type Conv,
  countedTitle,
  excerptOf,
  type Msg,
  toggledReactions,
  topVersion,
  unreadConversations,
  versionOf,
  withChanged,
} from "./changes.ts";
import { Connection } from "./connection.ts";
import { chatPath, openIdFromPath, pageTitle } from "./nav.ts";
import { notificationText, Notifier, shouldNotify } from "./notify.ts";
import { Outbox } from "./outbox.ts";
import { Uploads } from "./uploads.ts";
import * as r from "./reducer.ts";
import { ChatState } from "./state.ts";
import { syncOf, SyncQueue } from "./sync.ts";

export type { Outgoing } from "./outbox.ts";
export type { ChatProps, Thread } from "./state.ts";

/** Where the message box keeps a conversation's draft: this prefix, then its id. */
export const DRAFT_PREFIX = "parley:draft:";
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
  /** Our edits, deletes and reactions not yet acked; each keeps the message as it was, to put
   * back if the server refuses the change. */
  readonly #changes = new ChangeQueue({
    transport: (f) => this.#conn?.send(f) ?? false,
    onRefused: (f, error) => {
      const before = this.#before.get(f.id);
      this.#before.delete(f.id);
      if (before) this.#put(f.conversationId, before, true);
      this.notice.value = error.message;
    },
  });
  readonly #before = new Map<string, Msg>();
  #notifier: Notifier | null = null;
  readonly #syncs = new SyncQueue({
    send: (conversationId, afterSeq, reqId) =>
      this.#conn?.send({ type: "sync", conversationId, afterSeq, reqId }) ?? false,
    afterSeq: (convId) => {
      const t = this.heldThread(convId);
      return t?.loaded ? t.position : this.conversation(convId)?.lastSeq;
    },
  });

  /** Browser only: connects, restores unacked sends, and follows history navigation and tab
   * visibility. */
  start(): void {
    this.localTime.value = true;
    this.#loadDrafts();
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
    this.#notifier = new Notifier({
      onOpen: (id) => this.open(id),
      onPermission: (p) => this.notifyPermission.value = p,
    });
    // The tab's title follows the open conversation and the unread count (part F).
    effect(() => {
      const title = pageTitle(this.conversation(this.openId.value)?.title);
      document.title = countedTitle(
        unreadConversations(this.conversations.value as Conv[]),
        title,
      );
    });
    this.#conn.start();
    addEventListener("popstate", () => this.open(openIdFromPath(location.pathname), false));
    document.addEventListener("visibilitychange", () => this.#onVisible());
    setInterval(() => this.#tick(), 1_000);
  }

  /** The drafts the message box left in this tab's storage (components/Composer.tsx). */
  #loadDrafts(): void {
    try {
      for (let i = 0; i < sessionStorage.length; i++) {
        const key = sessionStorage.key(i) ?? "";
        if (key.startsWith(DRAFT_PREFIX)) {
          this.noteDraft(key.slice(DRAFT_PREFIX.length), sessionStorage.getItem(key) ?? "");
        }
      }
    } catch { /* storage blocked: no drafts to show */ }
  }

  async #onReady(): Promise<void> {
    this.#syncs.reset();
    this.#outbox.reset();
    this.#changes.reset();
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
      case "message": {
        const m = f.message;
        // The first message of a conversation new to us comes before its summary does.
        if (!this.conversation(m.conversationId)) {
          return void this.refreshList().then(() => this.#notify(m), () => {});
        }
        this.#onMessages(m.conversationId, [m], true);
        return this.#notify(m);
      }
      case "messages":
        this.learnAuthors(f.messages, f.users);
        return this.#onSynced(f.conversationId, f.messages, f.hasMore);
      case "update":
        return this.#onUpdate(f.conversationId, f.seq, f.message);
      case "ack": {
        if (this.#changes.acked(f.id)) {
          this.#before.delete(f.id);
          return this.#onUpdate(f.conversationId, f.seq, f.message);
        }
        const o = this.#outbox.find(f.conversationId, f.id);
        if (!o) return;
        return this.#onMessages(f.conversationId, [f.message ?? this.#acked(o, f)], true);
      }
      case "error": {
        const convId = syncOf(f.reqId);
        if (convId !== null) {
          this.#syncs.done(convId);
          if (f.error.code === "not_found") this.removed(convId);
        } else if (f.id && !this.#changes.refused(f.id, f.error)) {
          this.#outbox.refused(f.id, f.error);
        }
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
      case "user":
        if (f.user.id === this.me.id) {
          this.me.displayName = f.user.displayName;
          this.me.avatarUrl = f.user.avatarUrl;
          this.profile.value = f.user;
        }
        this.conversations.value = r.withPeerProfile(this.conversations.value, f.user);
        for (const t of this.threads()) {
          if (t.members.value) t.members.value = r.withMemberProfile(t.members.value, f.user);
        }
        return;
      case "conversation": {
        const c = f.conversation;
        this.upsert(c);
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
    this.update(convId, (c) => withChanged(r.withMessages(c, msgs, this.me.id), msgs));
    // Another member's message brings an archived conversation back, unless it is muted.
    const c = this.conversation(convId);
    if (live && c?.archived && !c.muted && msgs.some((m) => m.senderId !== this.me.id)) {
      this.update(convId, (x) => ({ ...x, archived: false }));
    }
    const top = Math.max(...msgs.map((m) => m.seq));
    if (t.loaded) {
      t.messages.value = applyMessages(t.messages.value, msgs, t.hasMore.value);
      if (live) this.#advance(convId, top);
      else t.position = Math.max(t.position, topVersion(msgs));
    }
    if (convId === this.openId.value) {
      if (!this.atBottom && live && t.marker.value === null) t.marker.value = top - 1;
      this.markRead();
    }
  }

  /** A live stream position arrived: the thread's position moves on when it is the next one;
   * past a hole, the hole is synced. */
  #advance(convId: string, seq: number): void {
    const t = this.thread(convId);
    const next = advanced(t.position, seq);
    t.position = next.position;
    if (next.gap) this.sync(convId);
  }

  /** A change (someone's `update`, or the ack of ours with the message after it). */
  #onUpdate(convId: string, seq: number, m: Msg | undefined): void {
    const t = this.heldThread(convId);
    if (m) this.#put(convId, m);
    if (t?.loaded) this.#advance(convId, seq);
  }

  /** Puts a message's new state where the client shows it: the thread (when held there) and
   * the list's preview (when it is the last message). `force` puts back an older state (a
   * refused change's). */
  #put(convId: string, m: Msg, force = false): void {
    const t = this.heldThread(convId);
    if (t?.loaded) {
      const list = force
        ? t.messages.value.map((x) => (x.seq === m.seq ? m : x))
        : applyMessages(t.messages.value, [m], t.hasMore.value);
      t.messages.value = list;
      if (t.editing.value?.seq === m.seq && (m as Msg).deleted) t.editing.value = null;
      if (t.replying.value?.seq === m.seq) t.replying.value = m;
    }
    this.update(convId, (c) => {
      if (!force) return withChanged(c, [m]);
      return c.lastMessage?.seq === m.seq ? { ...c, lastMessage: m } : c;
    });
  }

  /** Our send as the message it became, when the ack does not carry it: with its reply's
   * quote from the original we hold. */
  #acked(o: Parameters<typeof r.ackedMessage>[0], ack: { seq: number; ts: number }): Msg {
    const m: Msg = r.ackedMessage(o, ack, this.me.id);
    if (o.replyTo === undefined) return m;
    const orig = this.thread(o.conversationId).messages.value.find((x) => x.seq === o.replyTo);
    return {
      ...m,
      replyTo: {
        seq: o.replyTo,
        senderId: orig?.senderId ?? "",
        excerpt: orig ? excerptOf(orig) : "",
      },
    };
  }

  /** Raises a notification for a live message that calls for one (notify.ts decides). */
  #notify(m: Msg): void {
    const c = this.conversation(m.conversationId) as Conv | undefined;
    if (!this.#notifier || !shouldNotify(m, c, this.me.id) || !c) return;
    const members = this.heldThread(c.id)?.members.value;
    const sender = members?.find((x) => x.id === m.senderId)?.displayName ??
      (c.peer?.id === m.senderId ? c.peer.displayName : "Someone");
    this.#notifier.show(c.id, notificationText(m, c, sender));
  }

  /** Shows the message `seq` (a reply's original): pages up until it is held, then the list
   * scrolls to it and highlights it. */
  async showMessage(convId: string, seq: number): Promise<void> {
    const t = this.thread(convId);
    t.focus.value = null;
    if (await this.actions.reveal(convId, seq)) t.focus.value = seq;
    else this.notice.value = "That message could not be shown.";
  }

  /** Asks once, from the reader's click, whether notifications may be shown. */
  askNotifications(): Promise<void> {
    return this.#notifier?.ask() ?? Promise.resolve();
  }

  /** Changes the text of one of our messages (an empty text is not an edit). */
  edit(convId: string, m: Msg, body: string): void {
    if (!body.trim() || body === m.body) return;
    this.#change(
      { type: "edit", id: crypto.randomUUID(), conversationId: convId, seq: m.seq, body },
      { ...m, body, editedTs: Date.now() },
    );
  }

  /** Deletes a message (ours, or any in a group we own or administer). */
  remove(convId: string, m: Msg): void {
    this.#change(
      { type: "delete", id: crypto.randomUUID(), conversationId: convId, seq: m.seq },
      { ...m, body: "", attachment: null, deleted: true, reactions: [], mentions: [] },
    );
  }

  /** Adds or takes back our reaction with `emoji`. */
  react(convId: string, m: Msg, emoji: string, on: boolean): void {
    this.#change(
      { type: "react", id: crypto.randomUUID(), conversationId: convId, seq: m.seq, emoji, on },
      { ...m, reactions: toggledReactions(m.reactions ?? [], emoji, this.me.id, on) },
    );
  }

  /** Shows a change at once and sends it until acked; a refusal puts the message back. */
  #change(frame: ChangeFrame, shown: Msg): void {
    const held = this.heldThread(frame.conversationId)?.messages.value
      .find((x) => x.seq === frame.seq);
    if (held) this.#before.set(frame.id, held);
    this.#put(frame.conversationId, { ...shown, version: versionOf(held ?? shown) }, true);
    this.#changes.add(frame);
  }

  /** Mutes or unmutes a conversation for us: a muted one raises no notifications and does not
   * count in the title (part D). */
  async mute(convId: string, muted: boolean): Promise<void> {
    this.update(convId, (c) => ({ ...c, muted }) as Conv);
    try {
      await api.setSettings(convId, { muted });
    } catch (e) {
      this.update(convId, (c) => ({ ...c, muted: !muted }) as Conv);
      this.notice.value = e instanceof Error ? e.message : "That did not work. Please try again.";
    }
  }

  /** Asks for what follows what the client holds; the answer loops while `hasMore`. */
  sync(convId: string): void {
    this.#syncs.request(convId);
  }

  #onSynced(convId: string, msgs: Msg[], hasMore: boolean): void {
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
    if (t?.loaded && c && c.lastSeq > t.position) this.sync(convId);
  }

  /** Sends a message: shown at once as pending, resent with the same id until acked. */
  send(convId: string, body: string): void {
    if (!body.trim()) return;
    const t = this.thread(convId);
    // Writing is answering: the "New messages" line has done its job.
    t.marker.value = null;
    this.#typingSent.delete(convId);
    const replyTo = t.replying.value?.seq;
    t.replying.value = null;
    this.#outbox.add(convId, body, undefined, replyTo);
  }

  /** Uploads files (picked, dropped or pasted); each goes as an image or file message when the
   * composer's Send releases it, with the composer's text as the caption (client/uploads.ts). */
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
    if (!id) return;
    this.#notifier?.clear(id);
    const t = this.thread(id);
    this.setMarker(id);
    this.actions.refreshMembers(id);
    if (!t.loaded) {
      try {
        const page = await api.getMessages(id);
        this.learnAuthors(page.messages, page.users);
        t.messages.value = r.mergeMessages(t.messages.value, page.messages);
        t.hasMore.value = page.hasMore;
        t.loaded = true;
        t.position = Math.max(t.position, topVersion(page.messages));
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
    if (id) this.#notifier?.clear(id);
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
    this.#changes.drop(convId);
    this.dropThread(convId);
    if (this.openId.value === convId) {
      this.open(null);
      if (conv) this.notice.value = `You are no longer in “${conv.title}”.`;
    }
  }

  /** Each second: resends what is due, and drops typing lines whose time is up. */
  #tick(): void {
    this.#outbox.flush();
    this.#changes.flush();
    this.typing.value = r.typingExpired(this.typing.value, Date.now());
  }
}
