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
import { inboxMutations, moveInbox } from "./inbox.ts";
import { keys } from "./keys.ts";
import { getMany, listAll, retry } from "./kv.ts";
import type { CursorRecord, Head, IdemRecord, MemberRecord, VersionRecord } from "./records.ts";

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
    .set(keys.version(convId, seq), seq satisfies VersionRecord)
    .set(keys.head(convId), next);
  return { message, head: next };
}

/** The outcome of committing a batch: stored messages, drafts that were already stored,
 * drafts refused because their sender is not a member (only when membership is checked), and
 * drafts whose `absent` key exists (the sender is blocked). */
export interface BatchResult {
  stored: Message[];
  existing: Map<string, IdemRecord>;
  refused: Draft[];
  blocked: Draft[];
  head: Deno.KvEntry<Head>;
}

/**
 * Member entries by `convId + "\0" + userId`, as a commit last read them. Passed to
 * `commitGroups`, it makes the commit check that every sender is a member, and it keeps the
 * entries for the next commit (a stale one costs a retry, like a stale head).
 */
export type MemberCache = Map<string, Deno.KvEntryMaybe<MemberRecord>>;

const memberCacheKey = (convId: string, userId: string) => convId + "\u0000" + userId;

/** `absent` entries by conversation and sender, as a commit last read them (see `Draft`):
 * like member entries, kept for the next commit and checked in it. */
export type GuardCache = Map<string, Deno.KvEntryMaybe<unknown>>;

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
  guards: GuardCache = new Map(),
): Promise<BatchResult[]> {
  const existing = groups.map(() => new Map<string, IdemRecord>());
  const refused = groups.map((): Draft[] => []);
  const blocked = groups.map((): Draft[] => []);
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
    await checkGuards(kv, groups, pending, blocked, guards);
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
          guards,
        );
        for (const [id, rec] of existing[i]) r.existing.set(id, rec);
        out.push({
          ...r,
          refused: [...refused[i], ...r.refused],
          blocked: [...blocked[i], ...r.blocked],
        });
      }
      return out;
    }
    const ts = Date.now();
    let op = kv.atomic();
    let writes = 0;
    const newHeads: (Head | null)[] = groups.map(() => null);
    const stored: Message[][] = groups.map((g, i) => {
      const head = heads[i]!;
      if (!head.value) throw new Error(`conversation ${g.convId} has no head`);
      if (pending[i].length === 0) return [];
      let seq = head.value.seq;
      let n = headCount(head.value);
      const msgs = pending[i].map((d): Message => ({
        id: d.id,
        conversationId: g.convId,
        seq: ++seq,
        senderId: d.senderId,
        kind: d.kind,
        body: d.body,
        ts,
        ...unchanged(seq),
        replyTo: d.replyTo ?? null,
        mentions: d.mentions ?? [],
      }));
      op = op.check(head);
      if (members) {
        for (const senderId of new Set(pending[i].map((d) => d.senderId))) {
          op = op.check(members.get(memberCacheKey(g.convId, senderId))!);
        }
      }
      for (const senderId of new Set(pending[i].filter((d) => d.absent).map((d) => d.senderId))) {
        op = op.check(guards.get(memberCacheKey(g.convId, senderId))!);
      }
      const cursors = new Map<string, CursorRecord>();
      let last = msgs[0];
      for (const m of msgs) {
        last = m.replyTo ? forStorage(m) : m;
        op = op.check({ key: keys.idem(g.convId, m.id), versionstamp: null })
          .set(keys.message(g.convId, m.seq), last)
          .set(keys.version(g.convId, m.seq), m.seq satisfies VersionRecord)
          .set(
            keys.idem(g.convId, m.id),
            { seq: m.seq, ts, senderId: m.senderId } satisfies IdemRecord,
          );
        for (const u of m.mentions) {
          if (u !== m.senderId) op = op.set(keys.mention(u, g.convId, m.seq), true);
        }
        cursors.set(m.senderId, { seq: m.seq, n: ++n });
      }
      for (const [userId, c] of cursors) op = op.set(keys.cursor(g.convId, userId), c);
      newHeads[i] = { ...head.value, seq, ts, last, n };
      op = moveInbox(op, g.convId, head.value, ts).set(keys.head(g.convId), newHeads[i]!);
      writes++;
      return msgs;
    });
    const res = writes ? await retry(() => op.commit()) : null;
    if (!res || res.ok) {
      return groups.map((g, i) => {
        const msgs = stored[i];
        const head: Deno.KvEntry<Head> = msgs.length && res
          ? { key: keys.head(g.convId), value: newHeads[i]!, versionstamp: res.versionstamp }
          : heads[i] as Deno.KvEntry<Head>;
        return {
          stored: msgs,
          existing: existing[i],
          refused: refused[i],
          blocked: blocked[i],
          head,
        };
      });
    }
    // Another writer moved a head, one of these ids is stored already, or a sender's member
    // entry changed: look again.
    heads = groups.map(() => undefined);
    checkedIdem = false;
    groups.forEach((g, i) => {
      for (const d of pending[i]) {
        members?.delete(memberCacheKey(g.convId, d.senderId));
        guards.delete(memberCacheKey(g.convId, d.senderId));
      }
    });
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
      n + pending[i].reduce((k, d) => k + 3 + (d.mentions?.length ?? 0), 0) + 1 +
      new Set(pending[i].map((d) => d.senderId)).size + inboxMutations(heads[i]?.value),
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

/** Reads the `absent` entries `guards` lacks; moves drafts whose key exists to `blocked`. */
async function checkGuards(
  kv: Deno.Kv,
  groups: ConversationDrafts[],
  pending: Draft[][],
  blocked: Draft[][],
  guards: GuardCache,
): Promise<void> {
  const need = new Map<string, Deno.KvKey>();
  groups.forEach((g, i) => {
    for (const d of pending[i]) {
      const k = memberCacheKey(g.convId, d.senderId);
      if (d.absent && !guards.has(k)) need.set(k, d.absent);
    }
  });
  if (need.size) {
    const read = await getMany<unknown>(kv, [...need.values()]);
    [...need.keys()].forEach((k, j) => guards.set(k, read[j]));
  }
  groups.forEach((g, i) => {
    pending[i] = pending[i].filter((d) => {
      if (!d.absent) return true;
      const k = memberCacheKey(g.convId, d.senderId);
      if (guards.get(k)?.value === null) return true;
      // Read again next time: a block lifted later must not be remembered.
      guards.delete(k);
      blocked[i].push(d);
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

/**
 * Up to `limit` messages whose version is above `afterVersion`, in their current state,
 * ascending by version, and whether more follow: what `sync` answers. One range read of the
 * version index (one entry per message, under its current version) and the messages it names.
 * A message changed while it is read carries a newer version than its entry: the page ends
 * before it, and the next page (from the last version returned) finds it under its new entry.
 */
export async function messagesByVersion(
  kv: Deno.Kv,
  convId: string,
  afterVersion: number,
  limit: number,
): Promise<{ messages: Message[]; hasMore: boolean }> {
  if (afterVersion + 1 >= Number.MAX_SAFE_INTEGER) return { messages: [], hasMore: false };
  for (let attempt = 0;; attempt++) {
    const entries = await listAll<VersionRecord>(kv, {
      start: keys.version(convId, afterVersion + 1),
      end: [...keys.versionsOf(convId), Number.MAX_SAFE_INTEGER],
    }, { limit: limit + 1 });
    let hasMore = entries.length > limit;
    const wanted = entries.slice(0, limit);
    const read = await getMany<Message>(
      kv,
      wanted.map((e) => keys.message(convId, targetOf(e.value))),
    );
    const messages: Message[] = [];
    for (let j = 0; j < wanted.length; j++) {
      const m = read[j].value;
      const version = wanted[j].key[2] as number;
      if (!m) continue;
      if ((m.version ?? m.seq) !== version) {
        hasMore = true;
        break;
      }
      messages.push(m);
    }
    if (messages.length || !hasMore || attempt >= 5) return { messages, hasMore };
  }
}

/** The message seq a version entry names. */
export const targetOf = (v: VersionRecord): number => typeof v === "number" ? v : v.seq;

/**
 * One position of a conversation's stream, as the realtime engine delivers it: a new message
 * (`seq` is its own), a change (`seq` is the change's, `message` the target after it, `changeId`
 * the client's id), or a position whose change a later one superseded (`message` null: nothing
 * to deliver, but the position is passed).
 */
export interface StreamItem {
  seq: number;
  message: Message | null;
  changeId?: string;
}

/**
 * The stream positions afterSeq < seq <= upTo (what an isolate missed), every one of them:
 * positions with no version entry any more were superseded by a later change, whose entry
 * delivers the message's state. The caller knows `upTo` is committed (the head said so).
 */
export async function streamBetween(
  kv: Deno.Kv,
  convId: string,
  afterSeq: number,
  upTo: number,
): Promise<StreamItem[]> {
  if (upTo <= afterSeq) return [];
  const entries = await listAll<VersionRecord>(kv, {
    start: keys.version(convId, afterSeq + 1),
    end: keys.version(convId, upTo + 1),
  });
  const read = await getMany<Message>(
    kv,
    entries.map((e) => keys.message(convId, targetOf(e.value))),
  );
  // As served: with reactions and reply excerpts (the stored copies have neither).
  const found = read.flatMap((r) => (r.value ? [r.value] : []));
  const shown = new Map((await present(kv, convId, found)).map((m) => [m.seq, m]));
  const byVersion = new Map<number, StreamItem>();
  entries.forEach((e, j) => {
    const v = e.key[2] as number;
    byVersion.set(v, {
      seq: v,
      message: read[j].value ? shown.get(read[j].value!.seq)! : null,
      ...(typeof e.value === "number" ? {} : { changeId: e.value.id }),
    });
  });
  const items: StreamItem[] = [];
  for (let seq = afterSeq + 1; seq <= upTo; seq++) {
    items.push(byVersion.get(seq) ?? { seq, message: null });
  }
  return items;
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

/** The seqs of a user's unread mentions, by conversation (what is left above their cursors). */
export async function mentionsOf(kv: Deno.Kv, userId: string): Promise<Map<string, number[]>> {
  const entries = await listAll<true>(kv, { prefix: keys.mentionsOf(userId) });
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
