/**
 * Creating conversations and changing who is in them: direct chats, groups, renames, members
 * and roles, with the checks each needs (blocks, roles, the placement rate limit). Group
 * changes are stored as system messages and published like any message.
 * @module
 */
import { AppError, notFound } from "../errors.ts";
import type { Message } from "../protocol.ts";
import { mayChangeRoles, mayManage, mayRemove, roleChangeable } from "../roles.ts";
import { blocks } from "../store/blocks.ts";
import {
  addMember,
  createDirect,
  createGroup,
  findDirect,
  getConversation,
  getMember,
  removeMember,
  setRole,
  setTitle,
} from "../store/conversations.ts";
import { getUser, getUsers } from "../store/users.ts";
import { refuseIfBlocked } from "./blocking.ts";
import type { RealtimePort } from "./port.ts";
import { SharedRateLimiter } from "./ratelimit.ts";
import { conversationView } from "./views.ts";

export class Membership {
  /** Putting people into conversations (new direct chats, groups, added members): a burst of
   * 20, then one every 5 s per user, so nobody can fill someone else's list by the thousand. */
  #placements: SharedRateLimiter;

  constructor(private kv: Deno.Kv, private realtime: RealtimePort) {
    // Over the whole server; a block of one token, as placements are rare and commit anyway.
    this.#placements = new SharedRateLimiter(kv, "place", 20, 0.2, 1);
  }

  /** Refuses to place `otherId` anywhere for `actorId` when they do not exist (404, field
   * `userId`) or block the actor (403, saying `blocked`). */
  async #reachable(actorId: string, otherId: string, blocked: string): Promise<void> {
    if (!(await getUser(this.kv, otherId))) {
      throw new AppError("not_found", "That user does not exist.", { field: "userId" });
    }
    await refuseIfBlocked(this.kv, otherId, actorId, blocked);
  }

  async #group(actorId: string, convId: string) {
    const [member, conv] = await Promise.all([
      getMember(this.kv, convId, actorId),
      getConversation(this.kv, convId),
    ]);
    if (!member || !conv.value) throw notFound();
    if (conv.value.kind !== "group") {
      throw new AppError("forbidden", "A direct conversation always has exactly its two members.");
    }
    return { member, conv: conv.value };
  }

  /** Finds or creates the direct conversation with another user. */
  async createDirect(userId: string, otherId: string) {
    if (otherId === userId) {
      throw new AppError("invalid_input", "You cannot start a conversation with yourself.", {
        field: "userId",
      });
    }
    await this.#reachable(
      userId,
      otherId,
      "You cannot start a conversation with this person: they have blocked you.",
    );
    // Opening a direct chat that exists already puts nobody anywhere: only a new one counts.
    if (!(await findDirect(this.kv, userId, otherId))) await this.#place(userId);
    const { conversation, created } = await createDirect(this.kv, userId, otherId);
    return { conversation: (await conversationView(this.kv, userId, conversation.id))!, created };
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
    return (await conversationView(this.kv, userId, conv.id))!;
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
    await this.#reachable(
      actorId,
      userId,
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
}
