/**
 * What the open conversation's message list shows, worked out from the messages, our pending
 * sends and the read state: date separators, the "New messages" line, runs of one sender
 * (sender name on the first, time on the last), and the read mark on our newest message.
 * components/MessageList.tsx only renders these rows. Browser compatible, no side effects.
 * @module
 */
import type { ConversationKind, Member, Message } from "../lib/protocol.ts";
import { dayKey, dayLabel } from "./format.ts";
import type { Outgoing } from "./outbox.ts";

/** Messages from one sender this close together share one time line. */
export const RUN_MS = 5 * 60_000;

/** One row of the list. */
export type Row =
  | { kind: "day"; key: string; label: string }
  | { kind: "new" }
  | {
    kind: "message";
    message: Message;
    mine: boolean;
    /** The sender's name, on the first of a run in a group (not on ours). */
    sender?: string;
    /** Whether the time line shows: the last of a run, or our newest message. */
    meta: boolean;
    /** On our newest message: "Sent", "Read" or "Read by N". */
    status?: string;
  }
  | { kind: "pending"; send: Outgoing };

export interface TimelineInput {
  /** Acked messages, ascending by seq. */
  messages: Message[];
  /** Our unacked sends, oldest first; shown after the messages. */
  pending: Outgoing[];
  /** The members with their read cursors (null: not loaded yet). */
  members: Member[] | null;
  /** The name of an author who is not a member (left, or "Deleted account"), if known. */
  authorName?: (id: string) => string | undefined;
  /** The "New messages" line goes after this seq (null: no line). */
  marker: number | null;
  meId: string;
  kind: ConversationKind | undefined;
  /** Local time (after hydration) or UTC (the server's render). */
  local: boolean;
  now: number;
}

/** "Read", "Read by N" or "Sent" for one of our messages. */
export function readState(
  seq: number,
  meId: string,
  kind: ConversationKind,
  members: Member[] | null,
): string {
  const others = (members ?? []).filter((m) => m.id !== meId && m.lastReadSeq >= seq);
  if (!others.length) return "Sent";
  return kind === "direct" ? "Read" : `Read by ${others.length}`;
}

/** The rows of the message list, top to bottom. */
export function timeline(input: TimelineInput): Row[] {
  const { messages, pending, members, marker, meId, local, now } = input;
  const names = new Map((members ?? []).map((m) => [m.id, m.displayName]));
  const lastMine = messages.findLast((m) => m.senderId === meId)?.seq;
  const group = input.kind === "group";
  const rows: Row[] = [];
  let prevDay = "";
  let prevSender = "";
  const sep = (ts: number) => {
    const day = dayKey(ts, local);
    if (day !== prevDay) {
      rows.push({ kind: "day", key: day, label: dayLabel(ts, local, now) });
      prevDay = day;
      prevSender = "";
    }
  };
  messages.forEach((m, i) => {
    sep(m.ts);
    if (marker !== null && m.seq > marker && (i === 0 || messages[i - 1].seq <= marker)) {
      rows.push({ kind: "new" });
      prevSender = "";
    }
    const mine = m.senderId === meId;
    const showSender = group && !mine && m.senderId !== prevSender;
    prevSender = m.senderId;
    const next = messages[i + 1] ?? (pending.length ? { senderId: meId, ts: pending[0].ts } : null);
    const meta = !next || next.senderId !== m.senderId || next.ts - m.ts > RUN_MS ||
      m.seq === lastMine;
    rows.push({
      kind: "message",
      message: m,
      mine,
      sender: showSender
        ? names.get(m.senderId) ?? input.authorName?.(m.senderId) ?? "Former member"
        : undefined,
      meta,
      status: mine && m.seq === lastMine
        ? readState(m.seq, meId, input.kind ?? "direct", members)
        : undefined,
    });
  });
  for (const send of pending) {
    sep(send.ts);
    rows.push({ kind: "pending", send });
  }
  return rows;
}

/** How many messages came below the "New messages" line while the reader is scrolled up. */
export function unseenCount(marker: number | null, atBottom: boolean, lastSeq: number): number {
  return marker !== null && !atBottom ? lastSeq - marker : 0;
}
