/**
 * Messages under gapless per-conversation sequence numbers, their idempotency index, the
 * conversation head (watched by other isolates) and read cursors.
 * @module
 */
import type { Message, MessageKind } from "../protocol.ts";
import { appendEvents } from "./events.ts";
import { keys } from "./keys.ts";
import { getMany, listAll, retry } from "./kv.ts";

/** The newest state of a conversation: what other isolates watch to learn of new messages. */
export interface Head {
  seq: number;
  ts: number;
  last: Message | null;
}

/** What the idempotency index remembers of a stored message: enough to repeat its ack. */
export interface IdemRecord {
  seq: number;
  ts: number;
  senderId: string;
}

/** A message waiting for its sequence number. */
export interface Draft {
  id: string;
  senderId: string;
  kind: MessageKind;
  body: string;
}

/** The outcome of committing a batch: stored messages, and drafts that were already stored. */
export interface BatchResult {
  stored: Message[];
  existing: Map<string, IdemRecord>;
  head: Deno.KvEntry<Head>;
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

/**
 * Stores drafts under the next sequence numbers in one atomic commit (group commit), together
 * with their idempotency entries, the new head and the senders' read cursors. Ids already
 * stored are returned in `existing` and stored again never. `knownHead` lets the caller skip a
 * read when it holds the head from its own last commit; a stale one only costs a retry.
 */
export async function commitMessages(
  kv: Deno.Kv,
  convId: string,
  drafts: Draft[],
  knownHead?: Deno.KvEntry<Head>,
): Promise<BatchResult> {
  let head: Deno.KvEntryMaybe<Head> | undefined = knownHead;
  const existing = new Map<string, IdemRecord>();
  let pending = drafts;
  // Optimistic: the commit itself checks that no id is stored yet; only when it fails do we
  // read the idempotency index to learn which ids were (resends are mostly answered earlier,
  // from the isolate's recent acks).
  let checkedIdem = true;
  for (let attempt = 0;; attempt++) {
    if (!checkedIdem) {
      const found = await getIdem(kv, convId, pending.map((d) => d.id));
      for (const [id, rec] of found) existing.set(id, rec);
      pending = pending.filter((d) => !existing.has(d.id));
      checkedIdem = true;
    }
    head ??= await getHead(kv, convId);
    if (!head.value) throw new Error(`conversation ${convId} has no head`);
    if (pending.length === 0) return { stored: [], existing, head: head as Deno.KvEntry<Head> };
    const ts = Date.now();
    let seq = head.value.seq;
    const stored = pending.map((d): Message => ({
      id: d.id,
      conversationId: convId,
      seq: ++seq,
      senderId: d.senderId,
      kind: d.kind,
      body: d.body,
      ts,
    }));
    const nextHead: Head = { seq, ts, last: stored[stored.length - 1] };
    let op = kv.atomic().check(head);
    const cursors = new Map<string, number>();
    for (const m of stored) {
      op = op.check({ key: keys.idem(convId, m.id), versionstamp: null })
        .set(keys.message(convId, m.seq), m)
        .set(
          keys.idem(convId, m.id),
          { seq: m.seq, ts, senderId: m.senderId } satisfies IdemRecord,
        );
      cursors.set(m.senderId, m.seq);
    }
    for (const [userId, s] of cursors) op = op.set(keys.cursor(convId, userId), s);
    op = op.set(keys.head(convId), nextHead);
    const res = await retry(() => op.commit());
    if (res.ok) {
      return {
        stored,
        existing,
        head: { key: keys.head(convId), value: nextHead, versionstamp: res.versionstamp },
      };
    }
    // Another writer moved the head, or stored one of these ids: look again.
    head = undefined;
    checkedIdem = false;
    if (attempt > 1000) throw new Error("send could not commit after many attempts");
  }
}

/** Up to `limit` messages with seq > afterSeq, ascending, and whether more follow. */
export async function messagesAfter(kv: Deno.Kv, convId: string, afterSeq: number, limit: number) {
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

/** Read cursors of many members of a conversation. */
export async function getCursors(kv: Deno.Kv, convId: string, userIds: string[]) {
  const entries = await getMany<number>(kv, userIds.map((u) => keys.cursor(convId, u)));
  return new Map(userIds.map((u, i) => [u, entries[i].value ?? 0]));
}

/** All read cursors of a conversation. */
export async function listCursors(kv: Deno.Kv, convId: string): Promise<Map<string, number>> {
  const entries = await listAll<number>(kv, { prefix: keys.cursorsOf(convId) });
  return new Map(entries.map((e) => [e.key[2] as string, e.value]));
}

/**
 * Moves a member's read cursor forward to `seq` (clamped to the head) and logs a receipt.
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
    const [cursor, head] = await retry(() =>
      kv.getMany<[number, Head]>([keys.cursor(convId, userId), keys.head(convId)])
    );
    if (cursor.value === null) return null; // no longer a member
    const target = Math.min(seq, head.value?.seq ?? 0);
    if (target <= cursor.value) return null;
    const logged = await appendEvents(
      kv,
      [{ type: "receipt", conversationId: convId, userId, seq: target, connectionId }],
      (op) => op.check(cursor).set(keys.cursor(convId, userId), target),
    );
    if (logged) return { seq: target, eventSeq: logged[0].seq };
  }
}
