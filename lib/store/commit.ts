/**
 * Group commit of new messages: the drafts of one or more conversations in one atomic commit,
 * each conversation under its next gapless sequence numbers, with the checks that keep it
 * exactly-once (heads, idempotency entries) and allowed (member entries, a direct peer's block).
 * @module
 */
import { type Message, unchanged } from "../protocol.ts";
import { inboxMutations, moveInbox } from "./inbox.ts";
import { keys } from "./keys.ts";
import { getMany, retry } from "./kv.ts";
import { type Draft, forStorage, getIdem, headCount } from "./messages.ts";
import type { CursorRecord, Head, IdemRecord, MemberRecord } from "./records.ts";

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
    if (members) await checkSenders(kv, groups, pending, refused, memberCheck(members));
    await checkSenders(kv, groups, pending, blocked, guardCheck(guards));
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
      n + pending[i].reduce((k, d) => k + 2 + (d.mentions?.length ?? 0), 0) + 1 +
      new Set(pending[i].map((d) => d.senderId)).size + inboxMutations(heads[i]?.value),
    0,
  );
}

/**
 * An entry a commit checks once per sender and conversation, kept in `cache` for the next
 * commit: its key for a draft (null: nothing to check) and whether its entry lets the draft in.
 */
interface SenderCheck<V> {
  cache: Map<string, Deno.KvEntryMaybe<V>>;
  keyOf(convId: string, d: Draft): Deno.KvKey | null;
  admits(e: Deno.KvEntryMaybe<V> | undefined): boolean;
}

/** Reads the entries `check.cache` lacks; moves the drafts it does not admit to `out`, and
 * forgets their entries (read again next time: someone added back or unblocked later must not
 * be refused from memory). */
async function checkSenders<V>(
  kv: Deno.Kv,
  groups: ConversationDrafts[],
  pending: Draft[][],
  out: Draft[][],
  check: SenderCheck<V>,
): Promise<void> {
  const need = new Map<string, Deno.KvKey>();
  groups.forEach((g, i) => {
    for (const d of pending[i]) {
      const key = check.keyOf(g.convId, d);
      const k = memberCacheKey(g.convId, d.senderId);
      if (key && !check.cache.has(k)) need.set(k, key);
    }
  });
  if (need.size) {
    const read = await getMany<V>(kv, [...need.values()]);
    [...need.keys()].forEach((k, j) => check.cache.set(k, read[j]));
  }
  groups.forEach((g, i) => {
    pending[i] = pending[i].filter((d) => {
      if (!check.keyOf(g.convId, d)) return true;
      const k = memberCacheKey(g.convId, d.senderId);
      if (check.admits(check.cache.get(k))) return true;
      check.cache.delete(k);
      out[i].push(d);
      return false;
    });
  });
}

/** The sender's member entry: drafts of non-members are refused. */
const memberCheck = (members: MemberCache): SenderCheck<MemberRecord> => ({
  cache: members,
  keyOf: (convId, d) => keys.member(convId, d.senderId),
  admits: (e) => !!e?.value,
});

/** The draft's `absent` key (a direct peer's block): drafts whose key exists are blocked. */
const guardCheck = (guards: GuardCache): SenderCheck<unknown> => ({
  cache: guards,
  keyOf: (_, d) => d.absent ?? null,
  admits: (e) => e !== undefined && e.value === null,
});
