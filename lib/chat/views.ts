/**
 * What a user sees of conversations: titles (a direct chat is named by its peer), the peer's
 * presence, the last message and the unread count. The chat service answers with these, and
 * the realtime engine sends them in `conversation` frames, so both show the same thing.
 * @module
 */
import { type Conversation, DELETED_ACCOUNT, type Message, type Reaction } from "../protocol.ts";
import { getConversation, getMember } from "../store/conversations.ts";
import { keys } from "../store/keys.ts";
import { getMany } from "../store/kv.ts";
import { type ConvSettings, getSettings, stillArchived } from "../store/inbox.ts";
import { excerptOf, headCount, headsAndCounters, mentionsOf } from "../store/messages.ts";
import { lookupPresence } from "../store/presence.ts";
import { blockersAmong } from "../store/blocks.ts";
import type { ConversationRecord, Head } from "../store/records.ts";
import { getUsers, publicUser } from "../store/users.ts";

/** A user's views of conversations, in the order given. */
export async function conversationViews(
  kv: Deno.Kv,
  userId: string,
  convs: ConversationRecord[],
): Promise<Conversation[]> {
  const ids = convs.map((c) => c.id);
  const [{ heads, cursors }, mentions, settings] = await Promise.all([
    headsAndCounters(kv, ids, userId),
    mentionsOf(kv, userId, ids),
    getSettings(kv, ids, userId),
  ]);
  const [lasts, marks] = await Promise.all([
    lastMessages(kv, heads.map((h) => h?.last ?? null)),
    listMarks(kv, userId, ids, settings, heads),
  ]);
  const peerIds = convs.map((c) => c.pair?.find((id) => id !== userId) ?? null);
  const wanted = [...new Set(peerIds.filter((p): p is string => !!p))];
  const [peers, presence, blockers] = await Promise.all([
    getUsers(kv, wanted),
    lookupPresence(kv, wanted),
    blockersAmong(kv, userId, wanted),
  ]);
  // A peer who blocks the viewer shows no presence to them (contract part C).
  for (const id of blockers) presence.set(id, { online: false, lastSeen: null });
  const peerById = new Map(peers.map((p) => [p.id, p]));
  return convs.map((c, i) => {
    const head = heads[i] ?? { seq: 0, ts: c.createdAt, last: null };
    const cursor = cursors[i] ?? { seq: 0, n: 0 };
    const lastReadSeq = Math.min(cursor.seq, head.seq);
    const peerRecord = peerIds[i] ? peerById.get(peerIds[i]!) : undefined;
    const p = peerRecord ? presence.get(peerRecord.id) : undefined;
    const peer = peerRecord
      ? { ...publicUser(peerRecord), online: p?.online ?? false, lastSeen: p?.lastSeen ?? null }
      : null;
    return {
      id: c.id,
      kind: c.kind,
      title: c.kind === "direct" ? (peer?.displayName ?? DELETED_ACCOUNT) : c.title,
      peer,
      lastMessage: lasts[i],
      lastSeq: head.seq,
      lastReadSeq,
      // Others' messages past the cursor: the head's counter counts messages only (part F).
      unread: Math.max(0, headCount(head) - cursor.n),
      lastActivityTs: Math.max(head.ts, c.createdAt),
      unreadMentions: (mentions.get(c.id) ?? []).filter((seq) => seq > lastReadSeq).length,
      muted: marks[i].muted,
      archived: marks[i].archived,
    };
  });
}

/** Conversations' last messages as served: their reactions and reply excerpts filled. */
async function lastMessages(kv: Deno.Kv, lasts: (Message | null)[]): Promise<(Message | null)[]> {
  const withSums = lasts.filter((m): m is Message => !!m && !m.deleted && m.kind !== "system");
  const replies = lasts.filter((m): m is Message => !!m?.replyTo);
  const [sums, originals] = await Promise.all([
    getMany<Reaction[]>(kv, withSums.map((m) => keys.reactionSum(m.conversationId, m.seq))),
    getMany<Message>(kv, replies.map((m) => keys.message(m.conversationId, m.replyTo!.seq))),
  ]);
  const sumOf = new Map(withSums.map((m, j) => [m, sums[j].value]));
  const excerptFor = new Map(replies.map((m, j) => [m, excerptOf(originals[j].value)]));
  return lasts.map((m) => {
    if (!m) return null;
    const sum = sumOf.get(m);
    const excerpt = excerptFor.get(m);
    if (!sum?.length && excerpt === undefined && m.version !== undefined) return m;
    return {
      ...m,
      version: m.version ?? m.seq,
      editedTs: m.editedTs ?? null,
      deleted: m.deleted ?? false,
      mentions: m.mentions ?? [],
      reactions: sum ?? [],
      replyTo: m.replyTo ? { ...m.replyTo, excerpt: excerpt ?? "" } : null,
    };
  });
}

/** A user's `muted` and `archived` for each conversation (see store/inbox.ts), judged against
 * the heads the views show. */
function listMarks(
  kv: Deno.Kv,
  userId: string,
  ids: string[],
  settings: ConvSettings[],
  heads: (Head | null)[],
) {
  return Promise.all(ids.map(async (id, i) => ({
    muted: settings[i].muted,
    archived: await stillArchived(kv, id, userId, settings[i], heads[i]),
  })));
}

/** A user's view of one conversation, or null when they are not a member. */
export async function conversationView(
  kv: Deno.Kv,
  userId: string,
  convId: string,
): Promise<Conversation | null> {
  const [member, conv] = await Promise.all([
    getMember(kv, convId, userId),
    getConversation(kv, convId),
  ]);
  if (!member || !conv.value) return null;
  return (await conversationViews(kv, userId, [conv.value]))[0];
}
