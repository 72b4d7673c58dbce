/**
 * How server frames change the client's chat state, as pure functions over plain values: the
 * conversation list and its summaries, a thread's messages, members' presence and read cursors,
 * and who is typing. client/store.ts holds the state in signals and calls these; what a frame
 * also sets off (a sync, a read receipt, a page title) stays there. Browser compatible, no side
 * effects, so every rule here runs under `deno test`.
 * @module
 */
import {
  type Conversation,
  type Member,
  type Message,
  unchanged,
  type User,
} from "../lib/protocol.ts";
import { applyMessages, type Conv, type Msg, withNewMentions } from "./changes.ts";
import type { Outgoing } from "./outbox.ts";

/** conversationId → userId → until when "is typing" shows. */
export type Typing = Record<string, Record<string, number>>;

/** The list's order: most recent activity first. */
export const byActivity = (a: Conversation, b: Conversation): number =>
  b.lastActivityTs - a.lastActivityTs;

/** The highest seq up to which a sorted, unique list has no holes. */
export function contiguousLast(messages: Message[]): number {
  if (!messages.length) return 0;
  let last = messages[0].seq;
  for (let i = 1; i < messages.length && messages[i].seq === last + 1; i++) last++;
  return last;
}

/** Merges a page of messages (in their current state) into a sorted list, one per seq; a newer
 * state of a held message replaces it. */
export function mergeMessages(into: Message[], add: Message[]): Message[] {
  return applyMessages(into, add, false);
}

/** Our send as the message it became, once acked with its seq and the server's time. */
export function ackedMessage(
  send: Outgoing,
  ack: { seq: number; ts: number },
  meId: string,
): Message {
  const { id, conversationId, body, attachment } = send;
  const m: Message = {
    id,
    conversationId,
    body,
    seq: ack.seq,
    ts: ack.ts,
    kind: "text",
    senderId: meId,
    ...unchanged(ack.seq),
  };
  if (!attachment) return m;
  return { ...m, kind: attachment.width !== null ? "image" : "file", attachment };
}

/** A conversation's summary after messages arrive (live, synced or acked): the newest becomes
 * its last message, and ours count as read, since we wrote them. `unread` counts others' new
 * messages only (part F: seqs number changes too, so it is a count, not a difference of seqs). */
export function withMessages(c: Conversation, msgs: Message[], meId: string): Conversation {
  const top = msgs.reduce((a, m) => (m.seq > a.seq ? m : a), msgs[0]);
  const mine = msgs.filter((m) => m.senderId === meId).reduce((a, m) => Math.max(a, m.seq), 0);
  const lastReadSeq = Math.max(c.lastReadSeq, mine);
  const newer = top && top.seq > c.lastSeq;
  const lastSeq = newer ? top.seq : c.lastSeq;
  const fresh = (msgs as Msg[]).filter((m) =>
    m.seq > c.lastSeq && m.seq > lastReadSeq && m.senderId !== meId && m.kind !== "system" &&
    !m.deleted
  );
  const counted = withNewMentions({ ...c, lastReadSeq }, fresh, meId) as Conv;
  const read = lastReadSeq >= lastSeq;
  return {
    ...counted,
    lastSeq,
    lastReadSeq,
    lastMessage: newer ? top : c.lastMessage,
    lastActivityTs: newer ? Math.max(c.lastActivityTs, top.ts) : c.lastActivityTs,
    unread: read ? 0 : c.unread + fresh.length,
    ...(read && "unreadMentions" in counted ? { unreadMentions: 0 } : {}),
  } as Conversation;
}

/** A conversation read up to `seq` (never backwards). What stays unread is at most the
 * positions left above the cursor (the exact count comes with the next summary). */
export function readUpTo(c: Conversation, seq: number): Conversation {
  const lastReadSeq = Math.max(c.lastReadSeq, seq);
  const left = Math.max(0, c.lastSeq - lastReadSeq);
  const cc = c as Conv;
  return {
    ...c,
    lastReadSeq,
    unread: Math.min(c.unread, left),
    ...(cc.unreadMentions !== undefined
      ? { unreadMentions: Math.min(cc.unreadMentions, left) }
      : {}),
  } as Conversation;
}

/** The list with one conversation changed by `fn`, re-sorted. */
export function updated(
  list: Conversation[],
  id: string,
  fn: (c: Conversation) => Conversation,
): Conversation[] {
  return list.map((c) => (c.id === id ? fn(c) : c)).sort(byActivity);
}

/** The list with a conversation the server sent put in (or replaced), re-sorted. It never
 * steps back: a view built before a message we already show must not undo it, nor a read
 * cursor we already moved. */
export function upserted(list: Conversation[], conv: Conversation): Conversation[] {
  const held = list.find((c) => c.id === conv.id) as Conv | undefined;
  const merged: Conv = held && held.lastSeq > conv.lastSeq
    ? {
      ...conv,
      lastSeq: held.lastSeq,
      lastMessage: held.lastMessage,
      lastActivityTs: held.lastActivityTs,
      unread: held.unread,
      ...(held.unreadMentions !== undefined ? { unreadMentions: held.unreadMentions } : {}),
    }
    : { ...conv };
  if (held) merged.lastReadSeq = Math.max(held.lastReadSeq, merged.lastReadSeq);
  const left = Math.max(0, merged.lastSeq - merged.lastReadSeq);
  merged.unread = Math.min(merged.unread, left);
  if (merged.unreadMentions !== undefined) {
    merged.unreadMentions = Math.min(merged.unreadMentions, left);
  }
  return [...list.filter((c) => c.id !== conv.id), merged].sort(byActivity);
}

/** The list with a direct chat's peer shown online or offline; the same list when the user is
 * nobody's peer. */
export function withPeerPresence(
  list: Conversation[],
  userId: string,
  online: boolean,
  lastSeen: number | null,
): Conversation[] {
  if (!list.some((c) => c.peer?.id === userId)) return list;
  return list.map((c) =>
    c.peer?.id === userId ? { ...c, peer: { ...c.peer, online, lastSeen } } : c
  );
}

/**
 * The list with a user's new profile (name, avatar) on their direct conversation: its peer, and
 * its title, which is the peer's name. The same array when the user is no one's peer.
 */
export function withPeerProfile(list: Conversation[], user: User): Conversation[] {
  if (!list.some((c) => c.peer?.id === user.id)) return list;
  return list.map((c) =>
    c.peer?.id === user.id
      ? {
        ...c,
        title: user.displayName,
        peer: { ...c.peer, displayName: user.displayName, avatarUrl: user.avatarUrl },
      }
      : c
  );
}

/** Members with one member's new profile; the same array when they are not among them. */
export function withMemberProfile(members: Member[], user: User): Member[] {
  if (!members.some((m) => m.id === user.id)) return members;
  return members.map((m) =>
    m.id === user.id ? { ...m, displayName: user.displayName, avatarUrl: user.avatarUrl } : m
  );
}

/** Members with one of them online or offline; the same array when they are not among them. */
export function withMemberPresence(members: Member[], userId: string, online: boolean): Member[] {
  if (!members.some((m) => m.id === userId)) return members;
  return members.map((m) => m.id === userId ? { ...m, online } : m);
}

/** Members with one member's read cursor moved forward to `seq` (never back). */
export function withMemberRead(members: Member[], userId: string, seq: number): Member[] {
  return members.map((m) =>
    m.id === userId && m.lastReadSeq < seq ? { ...m, lastReadSeq: seq } : m
  );
}

/** Someone started typing: shown until `until`. */
export function typingStarted(t: Typing, convId: string, userId: string, until: number): Typing {
  return { ...t, [convId]: { ...t[convId], [userId]: until } };
}

/** Those who just sent a message are no longer typing; the same object when none was. */
export function typingStopped(t: Typing, convId: string, senders: Set<string>): Typing {
  const users = t[convId];
  if (!users || ![...senders].some((s) => s in users)) return t;
  return {
    ...t,
    [convId]: Object.fromEntries(Object.entries(users).filter(([u]) => !senders.has(u))),
  };
}

/** Typing lines whose time is up are dropped; the same object when none was. */
export function typingExpired(t: Typing, now: number): Typing {
  let changed = false;
  const all: Typing = {};
  for (const [convId, users] of Object.entries(t)) {
    const alive = Object.entries(users).filter(([, until]) => until > now);
    if (alive.length !== Object.keys(users).length) changed = true;
    if (alive.length) all[convId] = Object.fromEntries(alive);
  }
  return changed ? all : t;
}
