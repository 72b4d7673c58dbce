/**
 * What a user sees of conversations: titles (a direct chat is named by its peer), the peer's
 * presence, the last message and the unread count. The chat service answers with these, and
 * the realtime engine sends them in `conversation` frames, so both show the same thing.
 * @module
 */
import { type Conversation, DELETED_ACCOUNT } from "../protocol.ts";
import { getConversation, getMember } from "../store/conversations.ts";
import { headsAndCursors } from "../store/messages.ts";
import { lookupPresence } from "../store/presence.ts";
import { blockersAmong } from "../store/blocks.ts";
import type { ConversationRecord } from "../store/records.ts";
import { getUsers, publicUser } from "../store/users.ts";

/** A user's views of conversations, in the order given. */
export async function conversationViews(
  kv: Deno.Kv,
  userId: string,
  convs: ConversationRecord[],
): Promise<Conversation[]> {
  const { heads, cursors } = await headsAndCursors(kv, convs.map((c) => c.id), userId);
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
    const lastReadSeq = Math.min(cursors[i] ?? 0, head.seq);
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
      lastMessage: head.last,
      lastSeq: head.seq,
      lastReadSeq,
      unread: Math.max(0, head.seq - lastReadSeq),
      lastActivityTs: Math.max(head.ts, c.createdAt),
    };
  });
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
