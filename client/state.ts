/**
 * What the chat client holds, as Preact signals: the conversation list, the threads, who is
 * typing, the connection's state and the page's notices. Built from the server-rendered props,
 * so the first render on the server and the hydration in the browser see the same state. It
 * only stores; client/store.ts adds what changes it (frames, navigation, sends).
 * @module
 */
import { signal } from "@preact/signals";
import type { Attachment, Conversation, Member, Message, User } from "../lib/protocol.ts";
import type { ConnectionState } from "./connection.ts";
import type { Outgoing } from "./outbox.ts";
import * as r from "./reducer.ts";
import { topVersion } from "./changes.ts";
import type { Msg } from "./changes.ts";
import { referencedIds } from "./system.ts";

/** What the server renders into the page and the island hydrates from. */
export interface ChatProps {
  me: User;
  /** The first page of the list (and the open conversation, wherever it stands). */
  conversations: Conversation[];
  /** Where the list's next page starts (`GET /api/conversations?cursor=`), null at its end. */
  nextCursor?: string | null;
  openId: string | null;
  messages: Message[];
  hasMore: boolean;
  members: Member[] | null;
  /** Set in the island's props when the messages' bodies were left out of them: the browser
   * reads each body back from the server-rendered markup (client/chat.ts), so the page carries
   * every message's text once. */
  bodiesInMarkup?: boolean;
  /** The current profiles of the messages' senders (`HistoryPage.users`). */
  users?: User[];
  /** For the page as it works without JavaScript (routes/chat.tsx): the id the message box's
   * form sends with (fresh per page, so submitting the same form twice stores one message),
   * what it held when a send was refused, and why. */
  form?: { sendId: string; draft?: string; notice?: string };
  /** Ids of the users the signed-in user blocks. */
  blocked?: string[];
}

/** The messages and members the client holds for one conversation. */
export class Thread {
  /** Acked messages, ascending by seq, one per seq. */
  readonly messages = signal<Message[]>([]);
  /** Our sends not yet acked (the outbox's list for this conversation). */
  readonly pending = signal<Outgoing[]>([]);
  /** Older history exists on the server. */
  readonly hasMore = signal(false);
  readonly loadingOlder = signal(false);
  readonly members = signal<Member[] | null>(null);
  /** Where the "New messages" line goes: after this seq. */
  readonly marker = signal<number | null>(null);
  /** Holds the latest page (and everything after it). */
  loaded = false;
  /** The stream position applied without holes (part F: the highest message seq, update seq or
   * synced version); a loaded thread syncs from here. */
  position = 0;
  /** The message a reply's quote asked to show (scrolled to and highlighted once). */
  readonly focus = signal<number | null>(null);
  /** Our message being edited in the composer, and the one being replied to. */
  readonly editing = signal<Msg | null>(null);
  readonly replying = signal<Msg | null>(null);
}

export class ChatState {
  readonly me: User;
  /** The signed-in user's profile as it changes (the live `user` frame). */
  readonly profile = signal<User | null>(null);
  /** Users the signed-in user blocks: in groups their messages are folded away. */
  readonly blocked = signal<ReadonlySet<string>>(new Set());
  readonly conversations = signal<Conversation[]>([]);
  readonly openId = signal<string | null>(null);
  readonly status = signal<ConnectionState>("connecting");
  readonly typing = signal<r.Typing>({});
  readonly notice = signal<string | null>(null);
  /** False until hydrated: the server renders times in UTC, the browser then switches to local. */
  readonly localTime = signal(false);
  readonly dialog = signal<"new" | "info" | null>(null);
  /** The image open full size in the viewer, if any. */
  readonly viewer = signal<Attachment | null>(null);
  /** Whether this browser may show notifications: "unsupported" where it has none. */
  readonly notifyPermission = signal<NotificationPermission | "unsupported">("unsupported");
  /** Senders' profiles from history pages, by id; null for a deleted account. Members' names
   * come from the member lists; these sign the messages of people who are no longer members. */
  readonly authors = signal<ReadonlyMap<string, User | null>>(new Map());
  /** Unsent drafts by conversation (the message box keeps them in sessionStorage; the list
   * marks them). Empty on the server: drafts are the tab's own. */
  readonly drafts = signal<Readonly<Record<string, string>>>({});
  /** The list's pages: where the next one starts (null: none left), for the main list and
   * the archived one (undefined: no archived page loaded yet). */
  readonly listCursor = signal<string | null>(null);
  readonly archivedCursor = signal<string | null | undefined>(undefined);
  /** The sidebar shows the archived conversations instead of the others. */
  readonly showArchived = signal(false);
  /** A page of the list is on its way. */
  readonly loadingMore = signal(false);
  /** Whether the open conversation is scrolled to its end (set by the message list). */
  atBottom = true;
  /** The server's form state for the conversation the page opened with (see `ChatProps`). */
  readonly form: (NonNullable<ChatProps["form"]> & { conversationId: string }) | null;
  readonly #threads = new Map<string, Thread>();

  constructor(props: ChatProps) {
    this.me = { ...props.me };
    this.blocked.value = new Set(props.blocked ?? []);
    this.conversations.value = [...props.conversations].sort(r.byActivity);
    this.listCursor.value = props.nextCursor ?? null;
    this.openId.value = props.openId;
    this.form = props.form && props.openId ? { ...props.form, conversationId: props.openId } : null;
    this.notice.value = props.form?.notice ?? null;
    if (props.openId) {
      const t = this.thread(props.openId);
      t.messages.value = props.messages;
      t.hasMore.value = props.hasMore;
      t.members.value = props.members;
      t.loaded = true;
      t.position = topVersion(props.messages);
      this.learnAuthors(props.messages, props.users);
      this.setMarker(props.openId);
    }
  }

  /** Notes a history page's senders: their profiles, or null for those the server had none of
   * (deleted accounts). A page without `users` (an older server) teaches nothing. */
  learnAuthors(messages: readonly Message[], users: readonly User[] | undefined): void {
    if (!users) return;
    const next = new Map(this.authors.value);
    for (const id of messages.flatMap(referencedIds)) {
      if (!users.some((u) => u.id === id)) next.set(id, null);
    }
    for (const u of users) next.set(u.id, u);
    this.authors.value = next;
  }

  /** Notes what a conversation's message box holds ("" when emptied or sent). */
  noteDraft(id: string, text: string): void {
    if ((this.drafts.value[id] ?? "") === text) return;
    const { [id]: _, ...rest } = this.drafts.value;
    this.drafts.value = text ? { ...rest, [id]: text } : rest;
  }

  /** A conversation's thread, made empty on first use. */
  thread(id: string): Thread {
    let t = this.#threads.get(id);
    if (!t) this.#threads.set(id, t = new Thread());
    return t;
  }

  /** A conversation's thread if the client holds one. */
  heldThread(id: string): Thread | undefined {
    return this.#threads.get(id);
  }

  /** Every thread held. */
  threads(): Iterable<Thread> {
    return this.#threads.values();
  }

  /** Forgets a conversation's thread (we left it). */
  dropThread(id: string): void {
    this.#threads.delete(id);
  }

  conversation(id: string | null): Conversation | undefined {
    return id ? this.conversations.value.find((c) => c.id === id) : undefined;
  }

  /** Changes one conversation of the list. */
  update(id: string, fn: (c: Conversation) => Conversation): void {
    this.conversations.value = r.updated(this.conversations.value, id, fn);
  }

  /** Puts a conversation the server sent into the list (see `reducer.upserted`). */
  upsert(conv: Conversation): void {
    this.conversations.value = r.upserted(this.conversations.value, conv);
  }

  /** Puts the "New messages" line after the last message read, if any is unread. */
  setMarker(id: string): void {
    const c = this.conversation(id);
    this.thread(id).marker.value = c && c.unread > 0 ? c.lastReadSeq : null;
  }
}
