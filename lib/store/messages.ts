/**
 * Messages under gapless per-conversation sequence numbers, their idempotency index, the
 * conversation head (watched by other isolates) and read cursors.
 * @module
 */
import {
  LIMITS,
  type Message,
  type MessageKind,
  type Reaction,
  type ReplyTo,
  type SystemEvent,
  unchanged,
} from "../protocol.ts";
import { appendEvents } from "./events.ts";
import { moveInbox } from "./inbox.ts";
import { keys } from "./keys.ts";
import { getMany, listAll, retry } from "./kv.ts";
import type { CursorRecord, Head, IdemRecord } from "./records.ts";

export type { CursorRecord, Head, IdemRecord, VersionRecord } from "./records.ts";

/** A message waiting for its sequence number. */
export interface Draft {
  id: string;
  senderId: string;
  kind: MessageKind;
  body: string;
  /** The message answered, its excerpt filled (the stored copy keeps none: see `forStorage`). */
  replyTo?: ReplyTo | null;
  /** Members named in the body (see `resolveMentions` in lib/chat). */
  mentions?: string[];
  /**
   * A key that must not exist when the message is stored: in a direct conversation, the
   * peer's block of the sender. The commit checks it, so a block that lands first refuses the
   * message, and a send reads it only when the isolate has not seen it yet.
   */
  absent?: Deno.KvKey;
}

/** The message counter of a head (heads from before it counted every seq as a message). */
export const headCount = (h: Head): number => h.n ?? h.seq;

/** A cursor as `{seq, n}` (a bare number is from before the counter: then n = seq). */
export function readCursor(c: CursorRecord | null | undefined): { seq: number; n: number } | null {
  if (c === null || c === undefined) return null;
  return typeof c === "number" ? { seq: c, n: c } : c;
}

/**
 * The copy of a message KV keeps: a reply's excerpt is filled when served, never stored, so a
 * delete of the original leaves no copy of its body (contract part F); reactions live in their
 * own keys.
 */
export function forStorage(m: Message): Message {
  if (!m.replyTo?.excerpt && !m.reactions.length) return m;
  return { ...m, replyTo: m.replyTo && { ...m.replyTo, excerpt: "" }, reactions: [] };
}

/** The text a reply quotes: the first 100 code points of the original's body. */
export function excerptOf(m: Message | null): string {
  if (!m || m.deleted) return "";
  const body = m.body || m.attachment?.name || "";
  if (body.length <= LIMITS.excerptMax) return body;
  return [...body].slice(0, LIMITS.excerptMax).join("");
}

/**
 * Adds a group change, as a `kind: "system"` message under the head's next seq, to `op` (the
 * caller's commit, which must check `head`). Returns the message and the new head. System
 * messages never count as unread (the head's counter stays).
 */
export function addSystemMessage(
  op: Deno.AtomicOperation,
  convId: string,
  head: Head,
  system: SystemEvent,
  ts = Date.now(),
): { message: Message; head: Head } {
  const seq = head.seq + 1;
  const message: Message = {
    id: `system-${seq}`,
    conversationId: convId,
    seq,
    senderId: system.actorId,
    kind: "system",
    body: "",
    ts,
    ...unchanged(seq),
    system,
  };
  // The rest of the head (the list's member index) carries over; its entries move to `ts`.
  const next: Head = { ...head, seq, ts, last: message, n: headCount(head) };
  moveInbox(op, convId, head, ts).set(keys.message(convId, seq), message)
    .set(keys.head(convId), next);
  return { message, head: next };
}

/** Reads the idempotency records of message ids in a conversation. */
export async function getIdem(
  kv: Deno.Kv,
  convId: string,
  ids: string[],
): Promise<Map<string, IdemRecord>> {
  const entries = await getMany<IdemRecord>(kv, ids.map((id) => keys.idem(convId, id)));
  const out = new Map<string, IdemRecord>();
  entries.forEach((e, i) => e.value && out.set(ids[i], e.value));
  return out;
}

/** Reads a conversation head. */
export async function getHead(kv: Deno.Kv, convId: string): Promise<Deno.KvEntryMaybe<Head>> {
  return await retry(() => kv.get<Head>(keys.head(convId)));
}

/** Up to `limit` messages with seq > afterSeq, ascending, and whether more follow. */
export async function messagesAfter(kv: Deno.Kv, convId: string, afterSeq: number, limit: number) {
  if (afterSeq + 1 >= Number.MAX_SAFE_INTEGER) return { messages: [], hasMore: false };
  const entries = await listAll<Message>(kv, {
    start: keys.message(convId, afterSeq + 1),
    end: [...keys.messagesOf(convId), Number.MAX_SAFE_INTEGER],
  }, { limit: limit + 1 });
  const hasMore = entries.length > limit;
  return { messages: entries.slice(0, limit).map((e) => e.value), hasMore };
}

/** Up to `limit` messages with seq < beforeSeq (all when null), ascending, and whether more precede. */
export async function messagesBefore(
  kv: Deno.Kv,
  convId: string,
  beforeSeq: number | null,
  limit: number,
) {
  // Nothing comes before the first message (seqs start at 1).
  if (beforeSeq !== null && beforeSeq <= 1) return { messages: [], hasMore: false };
  const entries = await listAll<Message>(kv, {
    start: keys.message(convId, 1),
    end: keys.message(convId, beforeSeq ?? Number.MAX_SAFE_INTEGER),
  }, { limit: limit + 1, reverse: true });
  const hasMore = entries.length > limit;
  return { messages: entries.slice(0, limit).map((e) => e.value).reverse(), hasMore };
}

/** Messages with afterSeq < seq <= upTo, ascending (what an isolate missed). */
export async function messagesBetween(kv: Deno.Kv, convId: string, afterSeq: number, upTo: number) {
  if (upTo <= afterSeq) return [];
  const entries = await listAll<Message>(kv, {
    start: keys.message(convId, afterSeq + 1),
    end: keys.message(convId, upTo + 1),
  });
  return entries.map((e) => e.value);
}

/**
 * Messages as the contract serves them: reactions from their own keys, reply excerpts from the
 * originals' current state, and the change fields of messages stored before changes existed.
 * Reads only for messages that need it (replies) plus one read per message for reactions.
 */
export async function present(kv: Deno.Kv, convId: string, msgs: Message[]): Promise<Message[]> {
  if (!msgs.length) return msgs;
  const live = msgs.filter((m) => !m.deleted && m.kind !== "system");
  const replies = [...new Set(msgs.flatMap((m) => m.replyTo ? [m.replyTo.seq] : []))];
  const [sums, originals] = await Promise.all([
    getMany<Reaction[]>(kv, live.map((m) => keys.reactionSum(convId, m.seq))),
    getMany<Message>(kv, replies.map((seq) => keys.message(convId, seq))),
  ]);
  const reactions = new Map(live.map((m, j) => [m.seq, sums[j].value]));
  const excerpts = new Map(replies.map((seq, j) => [seq, excerptOf(originals[j].value)]));
  return msgs.map((m) => {
    const base = m.version === undefined ? { ...unchanged(m.seq), ...m } : m;
    const r = reactions.get(m.seq);
    if (!r && !m.replyTo) return base;
    return {
      ...base,
      reactions: r ?? [],
      replyTo: m.replyTo && { ...m.replyTo, excerpt: excerpts.get(m.replyTo.seq) ?? "" },
    };
  });
}

/** The heads of conversations and one user's read cursor (its seq) in each, in the order asked. */
export async function headsAndCursors(kv: Deno.Kv, convIds: string[], userId: string) {
  const { heads, cursors } = await headsAndCounters(kv, convIds, userId);
  return { heads, cursors: cursors.map((c) => c?.seq ?? null) };
}

/** The heads of conversations and one user's cursors (`{seq, n}`) in each, in the order asked. */
export async function headsAndCounters(kv: Deno.Kv, convIds: string[], userId: string) {
  const [heads, cursors] = await Promise.all([
    getMany<Head>(kv, convIds.map((c) => keys.head(c))),
    getMany<CursorRecord>(kv, convIds.map((c) => keys.cursor(c, userId))),
  ]);
  return { heads: heads.map((h) => h.value), cursors: cursors.map((c) => readCursor(c.value)) };
}

/** Up to this many conversations, their mentions are read one range each, not all of them. */
const MENTION_RANGES = 4;

/**
 * The seqs of a user's unread mentions in `convIds`, by conversation (what is left above their
 * cursors). One range read of all the user's mentions for a page of the list; for a view of a
 * few conversations (a `conversation` frame), only theirs.
 */
export async function mentionsOf(
  kv: Deno.Kv,
  userId: string,
  convIds: readonly string[],
): Promise<Map<string, number[]>> {
  const entries = convIds.length <= MENTION_RANGES
    ? (await Promise.all(
      convIds.map((c) => listAll<true>(kv, { prefix: keys.mentionsIn(userId, c) })),
    )).flat()
    : await listAll<true>(kv, { prefix: keys.mentionsOf(userId) });
  const out = new Map<string, number[]>();
  for (const e of entries) {
    const convId = e.key[2] as string;
    const list = out.get(convId) ?? [];
    list.push(e.key[3] as number);
    out.set(convId, list);
  }
  return out;
}

/** All read cursors of a conversation (their seqs). */
export async function listCursors(kv: Deno.Kv, convId: string): Promise<Map<string, number>> {
  const entries = await listAll<CursorRecord>(kv, { prefix: keys.cursorsOf(convId) });
  return new Map(entries.map((e) => [e.key[2] as string, readCursor(e.value)!.seq]));
}

/**
 * Moves a member's read cursor forward to `seq` (clamped to the head) and logs a receipt. The
 * cursor keeps the head's message counter at its position, so `unread` counts messages only;
 * the user's mentions at or below it stop being unread (their entries go in the same commit).
 * Returns the new cursor, or null when it did not move.
 */
export async function advanceCursor(
  kv: Deno.Kv,
  convId: string,
  userId: string,
  seq: number,
  connectionId: string | null,
): Promise<{ seq: number; eventSeq: number } | null> {
  for (;;) {
    const [cursorEntry, head] = await retry(() =>
      kv.getMany<[CursorRecord, Head]>([keys.cursor(convId, userId), keys.head(convId)])
    );
    const cursor = readCursor(cursorEntry.value);
    if (cursor === null) return null; // no longer a member
    const target = Math.min(seq, head.value?.seq ?? 0);
    if (target <= cursor.seq) return null;
    let n = head.value ? headCount(head.value) : 0;
    if (head.value && target < head.value.seq) {
      // Messages above the new position are still unread: count them off the head's counter.
      const above = await listAll<Message>(kv, {
        start: keys.message(convId, target + 1),
        end: keys.message(convId, head.value.seq + 1),
      });
      n -= above.filter((e) => e.value.kind !== "system").length;
    }
    const mentions = await listAll<true>(kv, {
      start: keys.mention(userId, convId, 0),
      end: keys.mention(userId, convId, target + 1),
    }, { limit: 500 });
    const logged = await appendEvents(
      kv,
      [{ type: "receipt", conversationId: convId, userId, seq: target, connectionId }],
      (op) => {
        // The counter at a position never changes once the head passed it: no head check.
        op = op.check(cursorEntry)
          .set(keys.cursor(convId, userId), { seq: target, n } satisfies CursorRecord);
        for (const m of mentions) op = op.delete(m.key);
        return op;
      },
    );
    if (logged) return { seq: target, eventSeq: logged[0].seq };
  }
}
