/**
 * Messages under gapless per-conversation sequence numbers, their idempotency index, the
 * conversation head (watched by other isolates) and read cursors.
 * @module
 */
import type { Message, MessageKind } from "../protocol.ts";
import { appendEvents } from "./events.ts";
import { inboxMutations, moveInbox } from "./inbox.ts";
import { keys } from "./keys.ts";
import { getMany, listAll, retry } from "./kv.ts";
import type { Head, IdemRecord, MemberRecord } from "./records.ts";

export type { Head, IdemRecord } from "./records.ts";

/** A message waiting for its sequence number. */
export interface Draft {
  id: string;
  senderId: string;
  kind: MessageKind;
  body: string;
}

/** The outcome of committing a batch: stored messages, drafts that were already stored, and
 * drafts refused because their sender is not a member (only when membership is checked). */
export interface BatchResult {
  stored: Message[];
  existing: Map<string, IdemRecord>;
  refused: Draft[];
  head: Deno.KvEntry<Head>;
}

/**
 * Member entries by `convId + "\0" + userId`, as a commit last read them. Passed to
 * `commitGroups`, it makes the commit check that every sender is a member, and it keeps the
 * entries for the next commit (a stale one costs a retry, like a stale head).
 */
export type MemberCache = Map<string, Deno.KvEntryMaybe<MemberRecord>>;

const memberCacheKey = (convId: string, userId: string) => convId + "\u0000" + userId;

/** Drafts of one conversation within a group commit. */
export interface ConversationDrafts {
  convId: string;
  drafts: Draft[];
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
 * Stores drafts of one conversation under its next sequence numbers. See `commitGroups`.
 * @example
 * const { stored } = await commitMessages(kv, convId, [{ id, senderId, kind: "text", body }]);
 */
export async function commitMessages(
  kv: Deno.Kv,
  convId: string,
  drafts: Draft[],
  knownHead?: Deno.KvEntry<Head>,
): Promise<BatchResult> {
  const heads = new Map(knownHead ? [[convId, knownHead]] : []);
  return (await commitGroups(kv, [{ convId, drafts }], heads))[0];
}

/**
 * Group commit: stores the drafts of one or more conversations in ONE atomic commit, each
 * conversation's drafts under its next gapless sequence numbers, together with their
 * idempotency entries, the new heads and the senders' read cursors. The commit checks every
 * head (so no concurrent writer can take the same seq) and that no id is stored yet; ids
 * already stored come back in `existing` and are stored again never. `knownHeads` (the
 * isolate's memory of its own last commits) saves the head reads; a stale one costs a retry.
 * With `members`, the commit also checks each sender's member entry (one check per sender
 * and conversation), so a sender removed a moment ago cannot slip a message in; their drafts
 * come back in `refused`. Callers keep a batch within KV's limits of one commit (100 checks,
 * 800 KB).
 */
export async function commitGroups(
  kv: Deno.Kv,
  groups: ConversationDrafts[],
  knownHeads: Map<string, Deno.KvEntry<Head>> = new Map(),
  members?: MemberCache,
): Promise<BatchResult[]> {
  const existing = groups.map(() => new Map<string, IdemRecord>());
  const refused = groups.map((): Draft[] => []);
  const pending = groups.map((g) => g.drafts);
  let heads: (Deno.KvEntryMaybe<Head> | undefined)[] = groups.map((g) => knownHeads.get(g.convId));
  // Optimistic: the commit itself checks that no id is stored yet; only when it fails do we
  // read the idempotency index to learn which ids were (most resends are answered earlier,
  // from the isolate's recent acks).
  let checkedIdem = true;
  for (let attempt = 0;; attempt++) {
    // Membership first, on every attempt: a non-member's draft is refused, also when it is a
    // resend of something stored while they were a member.
    if (members) await checkMembers(kv, groups, pending, refused, members);
    if (!checkedIdem) {
      const found = await Promise.all(
        groups.map((g, i) => getIdem(kv, g.convId, pending[i].map((d) => d.id))),
      );
      found.forEach((f, i) => {
        for (const [id, rec] of f) existing[i].set(id, rec);
        pending[i] = pending[i].filter((d) => !existing[i].has(d.id));
      });
      checkedIdem = true;
    }
    const missing = groups.map((g, i) => (heads[i] ? null : keys.head(g.convId)));
    if (missing.some((k) => k)) {
      const read = await getMany<Head>(kv, missing.filter((k): k is NonNullable<typeof k> => !!k));
      let j = 0;
      heads = heads.map((h) => h ?? read[j++]);
    }
    if (groups.length > 1 && mutationsOf(groups, pending, heads) > MAX_MUTATIONS) {
      // Heads read since the batch was taken list more members than it allowed for: one
      // conversation per commit keeps each under KV's limit.
      const out: BatchResult[] = [];
      for (const [i, g] of groups.entries()) {
        const known = heads[i] ? new Map([[g.convId, heads[i] as Deno.KvEntry<Head>]]) : undefined;
        const [r] = await commitGroups(
          kv,
          [{ convId: g.convId, drafts: pending[i] }],
          known,
          members,
        );
        for (const [id, rec] of existing[i]) r.existing.set(id, rec);
        out.push({ ...r, refused: [...refused[i], ...r.refused] });
      }
      return out;
    }
    const ts = Date.now();
    let op = kv.atomic();
    let writes = 0;
    const stored: Message[][] = groups.map((g, i) => {
      const head = heads[i]!;
      if (!head.value) throw new Error(`conversation ${g.convId} has no head`);
      if (pending[i].length === 0) return [];
      let seq = head.value.seq;
      const msgs = pending[i].map((d): Message => ({
        id: d.id,
        conversationId: g.convId,
        seq: ++seq,
        senderId: d.senderId,
        kind: d.kind,
        body: d.body,
        ts,
      }));
      op = op.check(head);
      if (members) {
        for (const senderId of new Set(pending[i].map((d) => d.senderId))) {
          op = op.check(members.get(memberCacheKey(g.convId, senderId))!);
        }
      }
      const cursors = new Map<string, number>();
      for (const m of msgs) {
        op = op.check({ key: keys.idem(g.convId, m.id), versionstamp: null })
          .set(keys.message(g.convId, m.seq), m)
          .set(
            keys.idem(g.convId, m.id),
            { seq: m.seq, ts, senderId: m.senderId } satisfies IdemRecord,
          );
        cursors.set(m.senderId, m.seq);
      }
      for (const [userId, s] of cursors) op = op.set(keys.cursor(g.convId, userId), s);
      op = moveInbox(op, g.convId, head.value, ts)
        .set(keys.head(g.convId), { ...head.value, seq, ts, last: msgs[msgs.length - 1] });
      writes++;
      return msgs;
    });
    const res = writes ? await retry(() => op.commit()) : null;
    if (!res || res.ok) {
      return groups.map((g, i) => {
        const msgs = stored[i];
        const head: Deno.KvEntry<Head> = msgs.length && res
          ? {
            key: keys.head(g.convId),
            value: {
              ...heads[i]!.value!,
              seq: msgs[msgs.length - 1].seq,
              ts,
              last: msgs[msgs.length - 1],
            },
            versionstamp: res.versionstamp,
          }
          : heads[i] as Deno.KvEntry<Head>;
        return { stored: msgs, existing: existing[i], refused: refused[i], head };
      });
    }
    // Another writer moved a head, one of these ids is stored already, or a sender's member
    // entry changed: look again.
    heads = groups.map(() => undefined);
    checkedIdem = false;
    if (members) {
      groups.forEach((g, i) => {
        for (const d of pending[i]) members.delete(memberCacheKey(g.convId, d.senderId));
      });
    }
    if (attempt > 1000) throw new Error("send could not commit after many attempts");
  }
}

/** KV's limit of mutations in one commit. */
export const MAX_MUTATIONS = 1000;

/** The mutations a group commit would make: per message its value and idempotency entry, per
 * conversation its head, a cursor per sender and the list index moves. */
function mutationsOf(
  groups: ConversationDrafts[],
  pending: Draft[][],
  heads: (Deno.KvEntryMaybe<Head> | undefined)[],
): number {
  return groups.reduce(
    (n, _, i) =>
      n + 2 * pending[i].length + 1 + new Set(pending[i].map((d) => d.senderId)).size +
      inboxMutations(heads[i]?.value),
    0,
  );
}

/** Reads the member entries `members` lacks; moves drafts of non-members to `refused`. */
async function checkMembers(
  kv: Deno.Kv,
  groups: ConversationDrafts[],
  pending: Draft[][],
  refused: Draft[][],
  members: MemberCache,
): Promise<void> {
  const need = new Map<string, Deno.KvKey>();
  groups.forEach((g, i) => {
    for (const d of pending[i]) {
      const k = memberCacheKey(g.convId, d.senderId);
      if (!members.has(k)) need.set(k, keys.member(g.convId, d.senderId));
    }
  });
  if (need.size) {
    const read = await getMany<MemberRecord>(kv, [...need.values()]);
    [...need.keys()].forEach((k, j) => members.set(k, read[j]));
  }
  groups.forEach((g, i) => {
    pending[i] = pending[i].filter((d) => {
      const k = memberCacheKey(g.convId, d.senderId);
      if (members.get(k)?.value) return true;
      // Not cached: someone added back later must be read again, not refused from memory.
      members.delete(k);
      refused[i].push(d);
      return false;
    });
  });
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

/** The heads of conversations and one user's read cursor in each, in the order asked. */
export async function headsAndCursors(kv: Deno.Kv, convIds: string[], userId: string) {
  const [heads, cursors] = await Promise.all([
    getMany<Head>(kv, convIds.map((c) => keys.head(c))),
    getMany<number>(kv, convIds.map((c) => keys.cursor(c, userId))),
  ]);
  return { heads: heads.map((h) => h.value), cursors: cursors.map((c) => c.value) };
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
