/**
 * Message changes as the browser sees them (contract part B, settled by part F): the shapes the
 * server adds to `Message`, `Conversation` and the frames, the rules that fold an edited,
 * deleted or reacted message into what a thread holds, and the queue of our own changes not yet
 * acked.
 * Browser compatible, no side effects: every rule runs under `deno test`.
 * @module
 */
import type {
  ClientFrame,
  Conversation,
  ErrorBody,
  Message,
  Reaction,
  ReplyTo,
  ServerFrame,
} from "../lib/protocol.ts";

export type { Reaction, ReplyTo } from "../lib/protocol.ts";

/** A message, with the fields of part B. */
export type Msg = Message;

/** A conversation with the fields of part D (`muted` comes with the settings route). */
export type Conv = Conversation & { muted?: boolean };

/** The frames a change is made with; each is answered with an `ack` by its `id`. */
export type ChangeFrame = Extract<ClientFrame, { type: "edit" | "delete" | "react" }>;

/** `update`: a change by someone else (or another tab); `message` is the target after it. */
export type UpdateFrame = Extract<ServerFrame, { type: "update" }>;

/** A message's stream position: its latest change, or its own seq while unchanged. */
export const versionOf = (m: Msg): number => m.version ?? m.seq;

/**
 * Folds messages in their current state into a thread's list (ascending by seq, one per seq).
 * A held message is replaced when the incoming state is newer. One not held is added when it
 * falls inside what the thread holds (or the thread holds the whole history): a change to a
 * message on an older page not loaded yet is not added, since it would leave a hole that paging
 * up (which goes from the first message held) would never fill.
 */
export function applyMessages(into: Msg[], add: Msg[], olderExist: boolean): Msg[] {
  if (!add.length) return into;
  const first = into.length ? into[0].seq : Infinity;
  const tail = into.length ? into[into.length - 1].seq : 0;
  // The common case, new messages after the last one held, appends without a map.
  if (add.every((m, i) => m.seq > (i ? add[i - 1].seq : tail))) {
    return [...into, ...add];
  }
  const bySeq = new Map<number, Msg>();
  for (const m of into) bySeq.set(m.seq, m);
  let changed = false;
  for (const m of add) {
    const held = bySeq.get(m.seq);
    if (held) {
      if (versionOf(m) > versionOf(held)) {
        bySeq.set(m.seq, m);
        changed = true;
      }
    } else if (!olderExist || m.seq > first) {
      bySeq.set(m.seq, m);
      changed = true;
    }
  }
  return changed ? [...bySeq.values()].sort((a, b) => a.seq - b.seq) : into;
}

/**
 * A thread's position after a live stream position `seq` (a `message`, an `update`, an ack):
 * the next one moves it on; one past a hole leaves it and asks for a sync of the hole (part
 * F: a gap in positions means "sync from my position"); one already passed changes nothing.
 */
export function advanced(position: number, seq: number): { position: number; gap: boolean } {
  if (seq === position + 1) return { position: seq, gap: false };
  return { position, gap: seq > position };
}

/** The highest stream position in some messages (0 for none). */
export function topVersion(msgs: Msg[]): number {
  return msgs.reduce((a, m) => Math.max(a, versionOf(m)), 0);
}

/** A conversation's summary after changes: `lastMessage` shows the newest message in its
 * current state (a deleted one stops showing its text). Changes move no cursor, do not count
 * as unread and do not move the list's order (part F). */
export function withChanged(c: Conv, msgs: Msg[]): Conv {
  const last = c.lastMessage as Msg | null;
  if (!last) return c;
  const now = msgs.find((m) => m.seq === last.seq && versionOf(m) > versionOf(last));
  return now ? { ...c, lastMessage: now } : c;
}

/** Whether a message calls on `userId` by name. */
export const mentions = (m: Msg, userId: string): boolean => !!m.mentions?.includes(userId);

/** Unread messages that mention us, after new messages arrive: those from others above the
 * read cursor that name us. */
export function withNewMentions(c: Conv, fresh: Msg[], meId: string): Conv {
  const n = fresh.filter((m) => m.senderId !== meId && m.seq > c.lastReadSeq && mentions(m, meId))
    .length;
  return n ? { ...c, unreadMentions: c.unreadMentions + n } : c;
}

/** The number the tab's title shows: unmuted conversations with unread messages (part F). */
export function unreadConversations(list: Conv[]): number {
  return list.filter((c) => c.unread > 0 && !c.muted).length;
}

/** The tab's title with the unread count in front: "(3) Parley". */
export function countedTitle(count: number, title: string): string {
  return count > 0 ? `(${count}) ${title}` : title;
}

/** The reactions after `userId` toggles `emoji`, as the server will store it: shown at once,
 * and replaced by the server's state when the ack or update comes. */
export function toggledReactions(
  list: Reaction[],
  emoji: string,
  userId: string,
  on: boolean,
): Reaction[] {
  const held = list.find((r) => r.emoji === emoji);
  if (on) {
    if (held?.userIds.includes(userId)) return list;
    if (!held) return [...list, { emoji, count: 1, userIds: [userId] }];
    return list.map((r) =>
      r === held ? { ...r, count: r.count + 1, userIds: [...r.userIds, userId] } : r
    );
  }
  if (!held || !held.userIds.includes(userId)) return list;
  if (held.count <= 1) return list.filter((r) => r !== held);
  return list.map((r) =>
    r === held ? { ...r, count: r.count - 1, userIds: r.userIds.filter((u) => u !== userId) } : r
  );
}

/** What the quote of a reply says: the original's current text when it is held (so a delete
 * shows at once), else the server's excerpt; a deleted original says so. */
export function quoteText(reply: ReplyTo, original: Msg | undefined): string {
  if (original?.deleted) return "Message deleted";
  return original ? excerptOf(original) : reply.excerpt || "Message deleted";
}

/** A message's text cut to 100 code points, as the server cuts `replyTo.excerpt`. */
export function excerptOf(m: Pick<Msg, "body" | "kind" | "attachment">): string {
  const text = m.body || (m.kind === "image" ? "Photo" : m.kind === "file" ? "File" : "");
  const cps = [...text];
  return cps.length > 100 ? cps.slice(0, 99).join("") + "…" : text;
}

/** Whether `text` is one emoji (one grapheme with an emoji in it), as a reaction must be. */
export function isOneEmoji(text: string): boolean {
  const t = text.trim();
  if (!t || t.length > 32) return false;
  const seg = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const parts = [...seg.segment(t)];
  return parts.length === 1 && /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(t);
}

/** The `@name` being typed at the caret, for the mention picker: its text after `@` and where
 * the `@` is; null when the caret is not in one. */
export function mentionAt(text: string, caret: number): { query: string; start: number } | null {
  const m = /(^|\s)@([a-z0-9_]{0,32})$/i.exec(text.slice(0, caret));
  return m ? { query: m[2].toLowerCase(), start: caret - m[2].length - 1 } : null;
}

/** A piece of a body for display: text, or a mention of a member. */
export type MentionPart = { text: string; userId?: string };

/** Splits a body at the `@username`s that name a member (case-insensitive), so they can be
 * highlighted; other `@` words stay text. */
export function splitMentions(body: string, byName: Map<string, string>): MentionPart[] {
  if (!body.includes("@") || !byName.size) return [{ text: body }];
  const parts: MentionPart[] = [];
  let at = 0;
  for (const m of body.matchAll(/(^|[^\w@])@([a-z0-9_]{3,32})\b/gi)) {
    const userId = byName.get(m[2].toLowerCase());
    if (!userId) continue;
    const start = m.index + m[1].length;
    if (start > at) parts.push({ text: body.slice(at, start) });
    parts.push({ text: body.slice(start, start + m[2].length + 1), userId });
    at = start + m[2].length + 1;
  }
  if (at < body.length) parts.push({ text: body.slice(at) });
  return parts;
}

/** A change of ours not yet acked. */
export interface PendingChange {
  frame: ChangeFrame;
  /** When it was last put on the wire (0: not yet). */
  sentAt: number;
}

/** A change is put on the wire again after this long without an answer. */
export const CHANGE_RESEND_MS = 4_000;

export interface ChangeQueueOptions {
  /** Puts a frame on the socket; false when it is not open (the change waits). */
  transport(frame: ChangeFrame): boolean;
  /** The change was refused for good (the message was deleted meanwhile, not ours, …). */
  onRefused(frame: ChangeFrame, error: ErrorBody): void;
  now?: () => number;
}

/**
 * Our changes not yet acked. Each goes out at once and again with the same id until the server
 * answers (a repeated id is answered with the first ack and stored once), across reconnects,
 * as the outbox does for sends. A rate limit only delays it.
 */
export class ChangeQueue {
  #opts: ChangeQueueOptions;
  #now: () => number;
  #pending = new Map<string, PendingChange>();

  constructor(opts: ChangeQueueOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Queues a change and tries to send it at once. */
  add(frame: ChangeFrame): void {
    this.#pending.set(frame.id, { frame, sentAt: 0 });
    this.flush();
  }

  /** Whether `id` is a change of ours still waiting for its answer. */
  has(id: string): boolean {
    return this.#pending.has(id);
  }

  /** Puts on the wire every change not sent within `CHANGE_RESEND_MS`. */
  flush(): void {
    const now = this.#now();
    for (const p of this.#pending.values()) {
      if (p.sentAt && now - p.sentAt < CHANGE_RESEND_MS) continue;
      if (this.#opts.transport(p.frame)) p.sentAt = now;
    }
  }

  /** A new socket is ready: what went out on the old one may be lost, so all go again. */
  reset(): void {
    for (const p of this.#pending.values()) p.sentAt = 0;
    this.flush();
  }

  /** The change with this id was acked: done. Returns whether it was ours. */
  acked(id: string): boolean {
    return this.#pending.delete(id);
  }

  /** The server refused the change with this id: later when rate limited, else for good.
   * Returns whether it was ours. */
  refused(id: string, error: ErrorBody): boolean {
    const p = this.#pending.get(id);
    if (!p) return false;
    if (error.code === "rate_limited") {
      p.sentAt = this.#now() + (error.retryAfterMs ?? 1000) - CHANGE_RESEND_MS;
      return true;
    }
    this.#pending.delete(id);
    this.#opts.onRefused(p.frame, error);
    return true;
  }

  /** We left the conversation: its changes will never go. */
  drop(convId: string): void {
    for (const [id, p] of this.#pending) {
      if (p.frame.conversationId === convId) this.#pending.delete(id);
    }
  }
}
