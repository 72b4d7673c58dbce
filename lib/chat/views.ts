/**
 * What a user sees of conversations: titles (a direct chat is named by its peer), the peer's
 * presence, the last message and the unread count. The chat service answers with these, and
 * the realtime engine sends them in `conversation` frames, so both show the same thing.
 * @module
 */
import type { Conversation } from "../protocol.ts";
import { getConversation, getMember } from "../store/conversations.ts";
import { type ConvSettings, getSettings, stillArchived } from "../store/inbox.ts";
import { headsAndCursors } from "../store/messages.ts";
import { lookupPresence } from "../store/presence.ts";
import type { ConversationRecord, Head } from "../store/records.ts";
import { getUsers, publicUser } from "../store/users.ts";

/** A user's views of conversations, in the order given. */
export async function conversationViews(
  kv: Deno.Kv,
  userId: string,
  convs: ConversationRecord[],
): Promise<Conversation[]> {
  const ids = convs.map((c) => c.id);
  const [{ heads, cursors }, settings] = await Promise.all([
    headsAndCursors(kv, ids, userId),
    getSettings(kv, ids, userId),
  ]);
  const marks = await listMarks(kv, userId, ids, settings, heads);
  const peerIds = convs.map((c) => c.pair?.find((id) => id !== userId) ?? null);
  const wanted = [...new Set(peerIds.filter((p): p is string => !!p))];
  const [peers, presence] = await Promise.all([
    getUsers(kv, wanted),
    lookupPresence(kv, wanted),
  ]);
  const peerById = new Map(peers.map((p) => [p.id, p]));
  return convs.map((c, i) => {
    const head = heads[i] ?? { seq: 0, ts: c.createdAt, last: null };
    const lastReadSeq = Math.min(cursors[i] ?? 0, head.seq);
    const peerRecord = peerIds[i] ? peerById.get(peerIds[i]!) : undefined;
    const p = peerRecord ? presence.get(peerRecord.id) : undefined;
    const peer = peerRecord
      ? { ...publicUser(peerRecord), online: p?.online ?? false, lastSeen: p?.lastSeen ?? null }
      : null;
    return {
      id: c.id,
      kind: c.kind,
      title: c.kind === "direct" ? (peer?.displayName ?? "Deleted user") : c.title,
      peer,
      lastMessage: head.last,
      lastSeq: head.seq,
      lastReadSeq,
      unread: Math.max(0, head.seq - lastReadSeq),
      lastActivityTs: Math.max(head.ts, c.createdAt),
      muted: marks[i].muted,
      archived: marks[i].archived,
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
