/**
 * The chat service: conversations, membership, sending, history, sync and read receipts.
 * HTTP routes and the WebSocket handler both call it, so the two paths cannot drift apart.
 * @module
 */
import { AppError, notFound } from "../errors.ts";
import {
  type Conversation,
  type ConversationPage,
  type HistoryPage,
  LIMITS,
  type Member,
  type Message,
  type MessageKind,
  type Role,
  type User,
  type UserWithPresence,
} from "../protocol.ts";
import {
  getConversations,
  getMember,
  listMembers,
  type MemberRecord,
} from "../store/conversations.ts";
import { KvBlobStore } from "../store/blobs.ts";
import {
  advanceCursor,
  listCursors,
  messagesAfter,
  messagesBefore,
  present,
} from "../store/messages.ts";
import { messagesByVersion } from "../store/stream.ts";
import { decodeCursor, encodeCursor, listPage, updateSettings } from "../store/inbox.ts";
import { lookupPresence } from "../store/presence.ts";
import { getUsers, publicUser, searchUsers } from "../store/users.ts";
import { type ChangeAck, Changing } from "./changes.ts";
import { Membership } from "./membership.ts";
import type { RealtimePort } from "./port.ts";
import { type Ack, Sending } from "./send.ts";
import { conversationView, conversationViews } from "./views.ts";
import { blockersAmong } from "../store/blocks.ts";

export type { Ack } from "./send.ts";
export type { ChangeAck } from "./changes.ts";

export class ChatService {
  #sending: Sending;
  #changing: Changing;
  #membership: Membership;

  constructor(private kv: Deno.Kv, private realtime: RealtimePort) {
    this.#sending = new Sending(kv, realtime);
    this.#changing = new Changing(
      kv,
      realtime,
      new KvBlobStore(kv),
      this.#sending.lane,
    );
    this.#membership = new Membership(kv, realtime);
  }

  // ---- membership checks -------------------------------------------------------------------

  async #member(userId: string, convId: string): Promise<MemberRecord> {
    const member = await getMember(this.kv, convId, userId);
    if (!member) throw notFound();
    return member;
  }

  // ---- views ---------------------------------------------------------------------------------

  /** A user's view of one conversation, or null when they are not a member. */
  view(userId: string, convId: string): Promise<Conversation | null> {
    return conversationView(this.kv, userId, convId);
  }

  /**
   * One page of a user's conversations, most recent activity first (archived ones only with
   * `archived`). `cursor` is a page's `nextCursor`; `limit` is clamped to 1–100 by the route.
   * @throws AppError `invalid_input` (field `cursor`) for a cursor this server did not make.
   */
  async listConversations(
    userId: string,
    opts: { limit?: number; cursor?: string; archived?: boolean } = {},
  ): Promise<ConversationPage> {
    const cursor = opts.cursor === undefined ? null : decodeCursor(opts.cursor);
    const { ids, next } = await listPage(this.kv, userId, {
      limit: opts.limit ?? LIMITS.pageDefault,
      cursor,
      archived: opts.archived ?? false,
    });
    const convs = await getConversations(this.kv, ids);
    return {
      conversations: await conversationViews(this.kv, userId, convs),
      nextCursor: next && encodeCursor(next),
    };
  }

  /** Sets a member's `muted` and `archived` for a conversation; 404 for non-members. */
  async setSettings(
    userId: string,
    convId: string,
    patch: { muted?: boolean; archived?: boolean },
  ): Promise<void> {
    await this.#member(userId, convId);
    if (!(await updateSettings(this.kv, convId, userId, patch))) throw notFound();
  }

  /** A conversation with its members, for a member. */
  async detail(userId: string, convId: string) {
    await this.#member(userId, convId);
    const conversation = await this.view(userId, convId);
    if (!conversation) throw notFound();
    const [records, cursors] = await Promise.all([
      listMembers(this.kv, convId),
      listCursors(this.kv, convId),
    ]);
    const ids = records.map((r) => r.userId);
    const [users, presence, blockers] = await Promise.all([
      getUsers(this.kv, ids),
      lookupPresence(this.kv, ids),
      blockersAmong(this.kv, userId, ids),
    ]);
    // Members who block the caller show them no presence (contract part C).
    for (const id of blockers) presence.set(id, { online: false, lastSeen: null });
    const byId = new Map(users.map((u) => [u.id, u]));
    const rank: Record<Role, number> = { owner: 0, admin: 1, member: 2 };
    const members: Member[] = records.flatMap((r) => {
      const u = byId.get(r.userId);
      if (!u) return [];
      return [{
        ...publicUser(u),
        role: r.role,
        online: presence.get(r.userId)?.online ?? false,
        lastReadSeq: Math.min(cursors.get(r.userId) ?? 0, conversation.lastSeq),
      }];
    }).sort((a, b) => rank[a.role] - rank[b.role] || a.username.localeCompare(b.username));
    return { conversation, members };
  }

  // ---- creating and changing conversations (lib/chat/membership.ts) -------------------------

  /** Finds or creates the direct conversation with another user. */
  createDirect(userId: string, otherId: string) {
    return this.#membership.createDirect(userId, otherId);
  }

  /** Creates a group owned by the caller. */
  createGroup(userId: string, title: string, memberIds: string[]) {
    return this.#membership.createGroup(userId, title, memberIds);
  }

  /** Renames a group (owner or admin). */
  rename(actorId: string, convId: string, title: string): Promise<void> {
    return this.#membership.rename(actorId, convId, title);
  }

  /** Adds a member to a group (owner or admin). */
  addMember(actorId: string, convId: string, userId: string): Promise<void> {
    return this.#membership.addMember(actorId, convId, userId);
  }

  /** Makes a member an admin or a plain member (owner only). */
  setRole(actorId: string, convId: string, userId: string, role: "admin" | "member") {
    return this.#membership.setRole(actorId, convId, userId, role);
  }

  /** Removes a member, or leaves when actor and user are the same. */
  removeMember(actorId: string, convId: string, userId: string): Promise<void> {
    return this.#membership.removeMember(actorId, convId, userId);
  }

  // ---- messages ------------------------------------------------------------------------------

  /**
   * Sends a message: validate → authorize → idempotency → rate limit → store atomically →
   * publish. A resend of a stored id gets the first ack and costs no rate-limit token.
   * @throws AppError `not_found`, `conflict`, `rate_limited`
   */
  send(
    senderId: string,
    convId: string,
    input: {
      id: string;
      body?: string;
      kind?: MessageKind;
      attachmentId?: string;
      replyTo?: number;
    },
    originConnId: string | null,
  ): Promise<Ack> {
    return this.#sending.send(senderId, convId, input, originConnId);
  }

  /**
   * Edits a message (its sender only). Idempotent by `id` like a send; a body equal to the
   * current one changes nothing and is acked with the current version.
   * @throws AppError `not_found`, `forbidden`, `invalid_input`, `conflict`
   */
  edit(
    actorId: string,
    convId: string,
    input: { id: string; seq: number; body?: string },
    originConnId: string | null,
  ): Promise<ChangeAck> {
    return this.#changing.edit(actorId, convId, input, originConnId);
  }

  /**
   * Deletes a message (its sender, or a group's owner or an admin), erasing body and attachment.
   * @throws AppError `not_found`, `forbidden`, `conflict`
   */
  deleteMessage(
    actorId: string,
    convId: string,
    input: { id: string; seq: number },
    originConnId: string | null,
  ): Promise<ChangeAck> {
    return this.#changing.delete(actorId, convId, input, originConnId);
  }

  /**
   * Turns the caller's reaction with `emoji` on or off; a reaction already in that state changes
   * nothing.
   * @throws AppError `not_found`, `invalid_input`, `conflict`
   */
  react(
    actorId: string,
    convId: string,
    input: { id: string; seq: number; emoji: string; on: boolean },
    originConnId: string | null,
  ): Promise<ChangeAck> {
    return this.#changing.react(actorId, convId, input, originConnId);
  }

  /** Every reaction on a message, with every user id. */
  reactions(userId: string, convId: string, seq: number) {
    return this.#changing.reactions(userId, convId, seq);
  }

  /** A page of history: below `before`, above `after`, or the latest. Ascending by seq. */
  async history(
    userId: string,
    convId: string,
    q: { before?: number; after?: number; limit?: number },
  ): Promise<HistoryPage> {
    await this.#member(userId, convId);
    const limit = Math.min(q.limit ?? LIMITS.pageDefault, LIMITS.pageMax);
    const page = q.after !== undefined
      ? await messagesAfter(this.kv, convId, q.after, limit)
      : await messagesBefore(this.kv, convId, q.before ?? null, limit);
    return await this.#withAuthors({
      messages: await present(this.kv, convId, page.messages),
      hasMore: page.hasMore,
    });
  }

  /**
   * A page with its senders' current profiles, looked up by id whether or not they are still
   * members: the member list alone would sign a leaver's messages "Former member" for everyone,
   * later joiners included. The people a group change names count too. One read per person.
   */
  async #withAuthors(page: { messages: Message[]; hasMore: boolean }): Promise<HistoryPage> {
    const ids = [
      ...new Set(
        page.messages.flatMap((m) => [m.senderId, m.system?.actorId, m.system?.userId]),
      ),
    ].filter((id): id is string => id !== undefined);
    const users = ids.length ? (await getUsers(this.kv, ids)).map(publicUser) : [];
    return { ...page, users };
  }

  /** What a client missed after `afterSeq`: every message whose version is above it, in its
   * current state, ascending by version, up to 100 at a time. */
  async sync(userId: string, convId: string, afterSeq: number, limit?: number) {
    // Always asked of KV (not of this isolate's subscriptions, which learn of a removal made
    // elsewhere a moment later): a sync hands out history.
    await this.#member(userId, convId);
    const page = await messagesByVersion(
      this.kv,
      convId,
      afterSeq,
      Math.min(limit ?? LIMITS.syncMax, LIMITS.syncMax),
    );
    return await this.#withAuthors({
      messages: await present(this.kv, convId, page.messages),
      hasMore: page.hasMore,
    });
  }

  /** Moves the caller's read cursor forward; other members get a `receipt`. */
  async read(userId: string, convId: string, seq: number, connId: string | null): Promise<void> {
    await this.#member(userId, convId);
    const moved = await advanceCursor(this.kv, convId, userId, seq, connId);
    if (moved) {
      this.realtime.publishEvents([{
        seq: moved.eventSeq,
        event: {
          type: "receipt",
          conversationId: convId,
          userId,
          seq: moved.seq,
          connectionId: connId,
        },
      }]);
    }
  }

  /** Users by username or display-name prefix, with their online state. */
  /** People whose name or username has a word starting with `q`. Someone who blocks the
   * viewer (`viewerId`) shows offline to them, as everywhere else (contract part C). */
  async searchUsers(q: string, viewerId?: string): Promise<UserWithPresence[]> {
    if (q.length > LIMITS.searchQueryMax) {
      const message = `q must be at most ${LIMITS.searchQueryMax} characters.`;
      throw new AppError("invalid_input", message, { field: "q" });
    }
    const users: User[] = q.trim() ? await searchUsers(this.kv, q.trim(), LIMITS.searchMax) : [];
    const ids = users.map((u) => u.id);
    const [presence, blockers] = await Promise.all([
      lookupPresence(this.kv, ids),
      viewerId ? blockersAmong(this.kv, viewerId, ids) : new Set<string>(),
    ]);
    return users.map((u) => ({
      ...u,
      online: !blockers.has(u.id) && (presence.get(u.id)?.online ?? false),
    }));
  }
}
