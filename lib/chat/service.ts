/**
 * The chat service: conversations, membership, sending, history, sync and read receipts.
 * HTTP routes and the WebSocket handler both call it, so the two paths cannot drift apart.
 * @module
 */
import { AppError, notFound } from "../errors.ts";
import { mayChangeRoles, mayManage, mayRemove, roleChangeable } from "../roles.ts";
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
  addMember,
  createDirect,
  createGroup,
  findDirect,
  getConversation,
  getConversations,
  getMember,
  listMembers,
  type MemberRecord,
  removeMember,
  setRole,
  setTitle,
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
import { getUser, getUsers, publicUser, searchUsers } from "../store/users.ts";
import { type ChangeAck, Changing } from "./changes.ts";
import type { RealtimePort } from "./port.ts";
import { SharedRateLimiter } from "./ratelimit.ts";
import { type Ack, Sending } from "./send.ts";
import { conversationView, conversationViews } from "./views.ts";
import { refuseIfBlocked } from "./blocking.ts";
import { blockersAmong, blocks } from "../store/blocks.ts";

export type { Ack } from "./send.ts";
export type { ChangeAck } from "./changes.ts";

export class ChatService {
  #sending: Sending;
  #changing: Changing;
  /** Putting people into conversations (new direct chats, groups, added members): a burst of
   * 20, then one every 5 s per user, so nobody can fill someone else's list by the thousand. */
  #placements: SharedRateLimiter;

  constructor(private kv: Deno.Kv, private realtime: RealtimePort) {
    this.#sending = new Sending(kv, realtime);
    this.#changing = new Changing(
      kv,
      realtime,
      new KvBlobStore(kv),
      this.#sending.lane,
    );
    // Over the whole server; a block of one token, as placements are rare and commit anyway.
    this.#placements = new SharedRateLimiter(kv, "place", 20, 0.2, 1);
  }

  // ---- membership checks -------------------------------------------------------------------

  async #member(userId: string, convId: string): Promise<MemberRecord> {
    const member = await getMember(this.kv, convId, userId);
    if (!member) throw notFound();
    return member;
  }

  async #group(actorId: string, convId: string) {
    const [member, conv] = await Promise.all([
      this.#member(actorId, convId),
      getConversation(this.kv, convId),
    ]);
    if (!conv.value) throw notFound();
    if (conv.value.kind !== "group") {
      throw new AppError("forbidden", "A direct conversation always has exactly its two members.");
    }
    return { member, conv: conv.value };
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

  // ---- creating and changing conversations ---------------------------------------------------

  /** Finds or creates the direct conversation with another user. */
  async createDirect(userId: string, otherId: string) {
    if (otherId === userId) {
      throw new AppError("invalid_input", "You cannot start a conversation with yourself.", {
        field: "userId",
      });
    }
    if (!(await getUser(this.kv, otherId))) {
      throw new AppError("not_found", "That user does not exist.", { field: "userId" });
    }
    await refuseIfBlocked(
      this.kv,
      otherId,
      userId,
      "You cannot start a conversation with this person: they have blocked you.",
    );
    // Opening a direct chat that exists already puts nobody anywhere: only a new one counts.
    if (!(await findDirect(this.kv, userId, otherId))) await this.#place(userId);
    const { conversation, created } = await createDirect(this.kv, userId, otherId);
    return { conversation: (await this.view(userId, conversation.id))!, created };
  }

  /** Creates a group owned by the caller. */
  async createGroup(userId: string, title: string, memberIds: string[]) {
    const wanted = [...new Set(memberIds)].filter((id) => id !== userId);
    const found = await getUsers(this.kv, wanted);
    if (found.length !== wanted.length) {
      const known = new Set(found.map((u) => u.id));
      const missing = wanted.find((id) => !known.has(id));
      throw new AppError("invalid_input", `memberIds: user ${missing} does not exist.`, {
        field: "memberIds",
      });
    }
    const blockers = await Promise.all(wanted.map((id) => blocks(this.kv, id, userId)));
    if (blockers.some(Boolean)) {
      throw new AppError("forbidden", "You cannot add someone who has blocked you to a group.", {
        field: "memberIds",
      });
    }
    await this.#place(userId);
    const conv = await createGroup(this.kv, userId, title, wanted);
    return (await this.view(userId, conv.id))!;
  }

  async #place(userId: string): Promise<void> {
    const wait = await this.#placements.take(userId);
    if (wait > 0) {
      throw new AppError(
        "rate_limited",
        "You are starting conversations or adding people too fast. Please wait a moment.",
        { retryAfterMs: wait },
      );
    }
  }

  /** Renames a group (owner or admin). */
  async rename(actorId: string, convId: string, title: string): Promise<void> {
    const { member } = await this.#group(actorId, convId);
    if (!mayManage(member.role)) {
      throw new AppError("forbidden", "Only the group's owner and admins can rename it.");
    }
    const system: Message[] = [];
    await setTitle(this.kv, convId, title, actorId, system);
    this.#publishSystem(convId, system);
  }

  /** Group changes just stored as system messages go out like any message. */
  #publishSystem(convId: string, msgs: Message[]): void {
    if (msgs.length) this.realtime.publishMessages(convId, msgs);
  }

  /** Adds a member to a group (owner or admin). */
  async addMember(actorId: string, convId: string, userId: string): Promise<void> {
    const { member } = await this.#group(actorId, convId);
    if (!mayManage(member.role)) {
      throw new AppError("forbidden", "Only the group's owner and admins can add members.");
    }
    if (!(await getUser(this.kv, userId))) {
      throw new AppError("not_found", "That user does not exist.", { field: "userId" });
    }
    await refuseIfBlocked(
      this.kv,
      userId,
      actorId,
      "You cannot add someone who has blocked you to a group.",
    );
    await this.#place(actorId);
    // Applied here at once (other isolates hear of it by channel and by the log's watch).
    const system: Message[] = [];
    const logged = await addMember(this.kv, convId, userId, actorId, system);
    if (logged) this.realtime.publishEvents(logged);
    else this.#placements.refund(actorId); // already a member: nobody was placed
    this.#publishSystem(convId, system);
  }

  /** Makes a member an admin or a plain member (owner only). */
  async setRole(actorId: string, convId: string, userId: string, role: "admin" | "member") {
    const { member } = await this.#group(actorId, convId);
    if (!mayChangeRoles(member.role)) {
      throw new AppError("forbidden", "Only the group's owner can change roles.");
    }
    const target = await getMember(this.kv, convId, userId);
    if (!target) throw new AppError("not_found", "That user is not a member of this group.");
    if (!roleChangeable(target.role)) {
      throw new AppError("forbidden", "The owner's role cannot be changed.");
    }
    await setRole(this.kv, convId, userId, role);
  }

  /** Removes a member, or leaves when actor and user are the same. */
  async removeMember(actorId: string, convId: string, userId: string): Promise<void> {
    const { member } = await this.#group(actorId, convId);
    if (actorId !== userId) {
      const target = await getMember(this.kv, convId, userId);
      if (!target) throw new AppError("not_found", "That user is not a member of this group.");
      if (!mayRemove(member.role, target.role)) {
        throw new AppError("forbidden", "You do not have permission to remove that member.");
      }
    }
    // Applied here at once: from now on this isolate neither delivers to the removed member nor
    // takes their sends (other isolates hear of it by channel and by the log's watch).
    const system: Message[] = [];
    const logged = await removeMember(this.kv, convId, userId, actorId, system);
    if (logged) this.realtime.publishEvents(logged);
    this.#publishSystem(convId, system);
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
