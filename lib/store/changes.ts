/**
 * Changes to messages (edit, delete, react), each under the conversation's next stream seq in
 * ONE atomic commit with the target's new state, its version index entry, the change's
 * idempotency entry and the head, so `sync` brings every change exactly once and two changes to
 * one message cannot lose either (both check the message's entry). Reactions live in their own
 * keys: one per user and emoji, and a summary per message (the first 50 ids of each emoji).
 * @module
 */
import { AppError, notFound } from "../errors.ts";
import { LIMITS, type Message, type Reaction } from "../protocol.ts";
import type { AttachmentRecord } from "./attachments.ts";
import type { BlobStore } from "./blobs.ts";
import { keys } from "./keys.ts";
import { getMany, listAll, retry } from "./kv.ts";
import { forStorage } from "./messages.ts";
import type { Head, IdemRecord, MemberRecord, VersionRecord } from "./records.ts";

/** What a change does. `mentions` of an edit are the members its new body names. */
export type ChangeOp =
  | { op: "edit"; body: string; mentions: string[] }
  | { op: "delete" }
  | { op: "react"; emoji: string; on: boolean };

/** Who may make a change, decided on the state the commit checks. */
export type Authorize = (target: Message, actor: MemberRecord) => void;

/** The outcome: a stored change, a retry of a stored one, or a change that changes nothing. */
export type ChangeOutcome =
  | { kind: "stored"; seq: number; ts: number; message: Message; head: Deno.KvEntry<Head> }
  | { kind: "existing"; seq: number; ts: number; message: Message }
  | { kind: "noop"; message: Message };

/** A retried change must be the same operation by the same person on the same message. */
function conflict(): AppError {
  return new AppError(
    "conflict",
    "That id was already used for something else in this conversation: use a new id.",
  );
}

/**
 * Commits one change to message `targetSeq`. The order of refusals: not a member → 404; no such
 * message (or a system or deleted one) → 404; `authorize` (403); a bad reaction → 400.
 * @throws AppError `not_found`, `forbidden`, `invalid_input`, `conflict`
 */
export async function commitChange(
  kv: Deno.Kv,
  blobs: BlobStore,
  convId: string,
  actorId: string,
  id: string,
  targetSeq: number,
  change: ChangeOp,
  authorize: Authorize,
): Promise<ChangeOutcome> {
  for (let attempt = 0;; attempt++) {
    const reactionKey = change.op === "react"
      ? keys.reaction(convId, targetSeq, change.emoji, actorId)
      : keys.readyProbe(); // a key nobody writes: a stand-in, so the read stays one call
    const [head, idem, member, target, sum, mine] = await retry(() =>
      kv.getMany<[Head, IdemRecord, MemberRecord, Message, Reaction[], number]>([
        keys.head(convId),
        keys.idem(convId, id),
        keys.member(convId, actorId),
        keys.message(convId, targetSeq),
        keys.reactionSum(convId, targetSeq),
        reactionKey,
      ])
    );
    if (!member.value || !head.value) throw notFound();
    if (idem.value) {
      const rec = idem.value;
      if (rec.op !== change.op || rec.senderId !== actorId || rec.target !== targetSeq) {
        throw conflict();
      }
      if (!target.value) throw notFound();
      return {
        kind: "existing",
        seq: rec.seq,
        ts: rec.ts,
        message: withReactions(target.value, sum.value),
      };
    }
    const old = target.value;
    if (!old || old.kind === "system" || old.deleted) {
      throw new AppError("not_found", "That message does not exist or was deleted.");
    }
    authorize(old, member.value);
    const current = withReactions(old, sum.value);
    const seq = head.value.seq + 1;
    const ts = Date.now();
    const oldVersion = old.version ?? old.seq;
    const op = kv.atomic()
      .check(head)
      .check(member)
      .check(target)
      .check({ key: keys.idem(convId, id), versionstamp: null });
    let next: Message;
    let reactions: Reaction[] = sum.value ?? [];
    switch (change.op) {
      case "edit": {
        if (change.body === old.body) return { kind: "noop", message: current };
        next = { ...old, body: change.body, editedTs: ts, mentions: change.mentions, version: seq };
        // Mentions recomputed without notifying: ones dropped stop being unread mentions.
        for (const u of old.mentions ?? []) {
          if (!change.mentions.includes(u)) op.delete(keys.mention(u, convId, old.seq));
        }
        break;
      }
      case "delete": {
        next = {
          ...old,
          body: "",
          deleted: true,
          mentions: [],
          version: seq,
          ...(old.attachment !== undefined ? { attachment: null } : {}),
        };
        reactions = [];
        op.delete(keys.reactionSum(convId, targetSeq));
        for (const u of old.mentions ?? []) op.delete(keys.mention(u, convId, old.seq));
        if (old.attachment) await removeAttachment(kv, blobs, op, old.attachment.id, ts);
        break;
      }
      case "react": {
        const on = mine.value !== null;
        if (on === change.on) return { kind: "noop", message: current };
        op.check(sum).check(mine);
        reactions = await toggled(kv, convId, targetSeq, reactions, change.emoji, actorId);
        if (change.on) op.set(keys.reaction(convId, targetSeq, change.emoji, actorId), seq);
        else op.delete(keys.reaction(convId, targetSeq, change.emoji, actorId));
        if (reactions.length) op.set(keys.reactionSum(convId, targetSeq), reactions);
        else op.delete(keys.reactionSum(convId, targetSeq));
        next = { ...old, version: seq };
        break;
      }
    }
    const stored = forStorage(next);
    const last = head.value.last?.seq === targetSeq ? stored : head.value.last;
    const newHead: Head = { ...head.value, seq, last };
    op.set(keys.message(convId, targetSeq), stored)
      .delete(keys.version(convId, oldVersion))
      .set(keys.version(convId, seq), { seq: targetSeq, id } satisfies VersionRecord)
      .set(
        keys.idem(convId, id),
        {
          seq,
          ts,
          senderId: actorId,
          op: change.op,
          target: targetSeq,
        } satisfies IdemRecord,
      )
      .set(keys.head(convId), newHead);
    const res = await retry(() => op.commit());
    if (res.ok) {
      if (change.op === "delete") {
        // The per-user reaction keys hold no body: they go after the commit, in slices.
        await clearReactions(kv, convId, targetSeq).catch(() => {});
      }
      return {
        kind: "stored",
        seq,
        ts,
        message: { ...next, reactions },
        head: { key: keys.head(convId), value: newHead, versionstamp: res.versionstamp },
      };
    }
    if (attempt > 1000) throw new Error("change could not commit after many attempts");
    // Many changes to one conversation at once: spread the retries out a little.
    if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(20, attempt)));
  }
}

/** A message with its reactions summary (the stored copy has none). */
function withReactions(m: Message, sum: Reaction[] | null): Message {
  return sum?.length ? { ...m, reactions: sum } : m;
}

/**
 * The summary after `userId` toggles `emoji`: counted, the first 50 ids kept (when one of them
 * goes and more reacted, the next is read from the per-user keys), at most 20 distinct emoji.
 */
async function toggled(
  kv: Deno.Kv,
  convId: string,
  seq: number,
  sum: Reaction[],
  emoji: string,
  userId: string,
): Promise<Reaction[]> {
  const at = sum.findIndex((r) => r.emoji === emoji);
  const r = at >= 0 ? sum[at] : null;
  const turningOn = !r || !r.userIds.includes(userId);
  if (!r) {
    if (sum.length >= LIMITS.reactionsMax) {
      throw new AppError(
        "invalid_input",
        `A message has at most ${LIMITS.reactionsMax} different reactions: use one already there.`,
        { field: "emoji" },
      );
    }
    return [...sum, { emoji, count: 1, userIds: [userId] }];
  }
  let next: Reaction;
  if (turningOn) {
    next = {
      emoji,
      count: r.count + 1,
      userIds: r.userIds.length < LIMITS.reactionUsersShown ? [...r.userIds, userId] : r.userIds,
    };
  } else {
    const userIds = r.userIds.filter((u) => u !== userId);
    if (r.count - 1 > userIds.length && userIds.length < LIMITS.reactionUsersShown) {
      const all = await listAll<number>(kv, { prefix: keys.reactionsOfEmoji(convId, seq, emoji) }, {
        limit: LIMITS.reactionUsersShown + 2,
      });
      const more = all.map((e) => e.key[4] as string)
        .find((u) => u !== userId && !userIds.includes(u));
      if (more) userIds.push(more);
    }
    next = { emoji, count: r.count - 1, userIds };
  }
  if (next.count <= 0) return sum.filter((_, i) => i !== at);
  return sum.map((x, i) => (i === at ? next : x));
}

/** Removes an attachment's record and its blobs' manifests in the delete's commit (the chunks
 * go at the blob store's next sweep, and are never served again). */
async function removeAttachment(
  kv: Deno.Kv,
  blobs: BlobStore,
  op: Deno.AtomicOperation,
  attId: string,
  now: number,
): Promise<void> {
  const entry = await retry(() => kv.get<AttachmentRecord>(keys.attachment(attId)));
  const rec = entry.value;
  if (!rec) return;
  op.check(entry).delete(keys.attachment(attId));
  blobs.remove(op, rec.blobId, now);
  if (rec.preview) blobs.remove(op, rec.preview.blobId, now);
}

/** Deletes the per-user reaction keys of a deleted message. */
async function clearReactions(kv: Deno.Kv, convId: string, seq: number): Promise<void> {
  for (;;) {
    const entries = await listAll(kv, { prefix: keys.reactionsOf(convId, seq) }, { limit: 500 });
    if (!entries.length) return;
    let op = kv.atomic();
    for (const e of entries) op = op.delete(e.key);
    await retry(() => op.commit());
  }
}

/** Every reaction on a message, each with every user id (in the order of the summary). */
export async function listReactions(
  kv: Deno.Kv,
  convId: string,
  seq: number,
): Promise<Reaction[]> {
  const [sumEntry] = await getMany<Reaction[]>(kv, [keys.reactionSum(convId, seq)]);
  const entries = await listAll<number>(kv, { prefix: keys.reactionsOf(convId, seq) });
  const byEmoji = new Map<string, string[]>();
  for (const e of entries) {
    const emoji = e.key[3] as string;
    const list = byEmoji.get(emoji) ?? [];
    list.push(e.key[4] as string);
    byEmoji.set(emoji, list);
  }
  return (sumEntry.value ?? []).map((r) => {
    const all = byEmoji.get(r.emoji) ?? [];
    // The summary's first ids lead, in their order; the rest follow.
    const shown = new Set(r.userIds);
    const userIds = [...r.userIds, ...all.filter((u) => !shown.has(u))];
    return { emoji: r.emoji, count: userIds.length, userIds };
  });
}
