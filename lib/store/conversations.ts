/**
 * Conversations and membership (both directions), with membership events appended to the
 * event log in the same atomic commit, so other isolates learn of them even without
 * BroadcastChannel. Every change to a group is also a `kind: "system"` message of its stream,
 * stored in that same commit (contract part F); `out` parameters hand them to the caller to
 * publish.
 * @module
 */
import { AppError } from "../errors.ts";
import { count, LIMITS, type Message, type Role } from "../protocol.ts";
import { appendEvents } from "./events.ts";
import { indexedPerMember, joinIndex, leaveIndex, reindex } from "./inbox.ts";
import { keys } from "./keys.ts";
import { getMany, listAll, retry } from "./kv.ts";
import { addSystemMessage, headCount } from "./messages.ts";
import type {
  ConversationRecord,
  CursorRecord,
  Head,
  LogEvent,
  LoggedEvent,
  MemberRecord,
} from "./records.ts";

export type { ConversationRecord, MemberRecord } from "./records.ts";

/** Members written per commit: four mutations each (member, membership, cursor, list index),
 * under KV's 1,000 per commit, and four keys of two ids each (up to about 100 bytes a key with
 * UUIDs), under KV's 80 KiB of keys per commit: 240 went over once the list index came. */
const MEMBERS_PER_COMMIT = 160;

/** Reads a conversation. */
export async function getConversation(
  kv: Deno.Kv,
  convId: string,
): Promise<Deno.KvEntryMaybe<ConversationRecord>> {
  if (!plausibleId(convId)) return { key: keys.conversation(""), value: null, versionstamp: null };
  return await retry(() => kv.get<ConversationRecord>(keys.conversation(convId)));
}

/** Ids come from URLs and frames: one longer than any id we make names nothing (and would
 * exceed KV's key size). */
const plausibleId = (id: string) => id.length <= 100;

/** A user's membership record in a conversation, or null when not a member. */
export async function getMember(
  kv: Deno.Kv,
  convId: string,
  userId: string,
): Promise<MemberRecord | null> {
  if (!plausibleId(convId) || !plausibleId(userId)) return null;
  return (await retry(() => kv.get<MemberRecord>(keys.member(convId, userId)))).value;
}

/** Every member of a conversation with their record. */
export async function listMembers(kv: Deno.Kv, convId: string) {
  const entries = await listAll<MemberRecord>(kv, { prefix: keys.membersOf(convId) });
  return entries.map((e) => ({ userId: e.key[2] as string, ...e.value }));
}

/** The ids of the conversations a user belongs to. */
export async function listMemberships(kv: Deno.Kv, userId: string): Promise<string[]> {
  const entries = await listAll(kv, { prefix: keys.membershipsOf(userId) });
  return entries.map((e) => e.key[2] as string);
}

/** The id of the direct conversation between two users, if any. */
export async function findDirect(kv: Deno.Kv, a: string, b: string): Promise<string | null> {
  return (await retry(() => kv.get<string>(keys.direct(a, b)))).value;
}

export function addMemberOps(
  op: Deno.AtomicOperation,
  convId: string,
  userId: string,
  role: Role,
  start: { seq: number; n: number },
  now: number,
) {
  return op
    .set(keys.member(convId, userId), { role, joinedAt: now } satisfies MemberRecord)
    .set(keys.membership(userId, convId), { joinedAt: now })
    .set(keys.cursor(convId, userId), start satisfies CursorRecord);
}

const START = { seq: 0, n: 0 };

/**
 * Creates the direct conversation of two users, or returns the existing one. Exactly one of
 * two concurrent creations wins: the pair index is checked in the same commit.
 */
export async function createDirect(
  kv: Deno.Kv,
  a: string,
  b: string,
): Promise<{ conversation: ConversationRecord; created: boolean }> {
  for (;;) {
    const existing = await findDirect(kv, a, b);
    if (existing) {
      const conv = (await getConversation(kv, existing)).value;
      if (conv) return { conversation: conv, created: false };
    }
    const now = Date.now();
    const conv: ConversationRecord = {
      id: crypto.randomUUID(),
      kind: "direct",
      title: "",
      createdAt: now,
      createdBy: a,
      memberCount: 2,
      pair: [a, b],
    };
    const events: LogEvent[] = [a, b].map((userId) => ({
      type: "member_added",
      conversationId: conv.id,
      userId,
    }));
    const head: Head = { seq: 0, ts: now, last: null, n: 0, inbox: [a, b] };
    const logged = await appendEvents(kv, events, (op) => {
      op = op.check({ key: keys.direct(a, b), versionstamp: null })
        .set(keys.direct(a, b), conv.id)
        .set(keys.conversation(conv.id), conv)
        .set(keys.head(conv.id), head);
      op = joinIndex(addMemberOps(op, conv.id, a, "member", START, now), conv.id, a, head);
      return joinIndex(addMemberOps(op, conv.id, b, "member", START, now), conv.id, b, head);
    });
    if (logged) return { conversation: conv, created: true };
  }
}

/**
 * Creates a group owned by `ownerId`. Members are written in chunks (KV caps one commit's
 * size); the conversation record comes last, so a group is never seen half-made.
 */
export async function createGroup(
  kv: Deno.Kv,
  ownerId: string,
  title: string,
  memberIds: string[],
): Promise<ConversationRecord> {
  const others = [...new Set(memberIds)].filter((id) => id !== ownerId);
  const now = Date.now();
  const conv: ConversationRecord = {
    id: crypto.randomUUID(),
    kind: "group",
    title,
    createdAt: now,
    createdBy: ownerId,
    memberCount: others.length + 1,
  };
  // A small group lists its members in its head, for the message commit to move their list
  // entries; a large one gives each member a big-group entry instead (store/inbox.ts).
  const head: Head = indexedPerMember(conv.memberCount)
    ? { seq: 0, ts: now, last: null, n: 0, inbox: [ownerId, ...others] }
    : { seq: 0, ts: now, last: null, n: 0 };
  for (let i = 0; i < others.length; i += MEMBERS_PER_COMMIT) {
    let op = kv.atomic();
    for (const userId of others.slice(i, i + MEMBERS_PER_COMMIT)) {
      op = joinIndex(
        addMemberOps(op, conv.id, userId, "member", START, now),
        conv.id,
        userId,
        head,
      );
    }
    await retry(() => op.commit());
  }
  const events: LogEvent[] = [ownerId, ...others].map((userId) => ({
    type: "member_added",
    conversationId: conv.id,
    userId,
  }));
  // The event log takes the announcements in slices too; the last slice carries the record.
  for (let i = 0; i < events.length; i += MEMBERS_PER_COMMIT) {
    const slice = events.slice(i, i + MEMBERS_PER_COMMIT);
    const last = i + MEMBERS_PER_COMMIT >= events.length;
    await appendEvents(kv, slice, (op) => {
      if (!last) return op;
      op = op.set(keys.conversation(conv.id), conv);
      // The "created" line is the stream's first entry; its head carries the members' list.
      const created = addSystemMessage(op, conv.id, head, {
        action: "created",
        actorId: ownerId,
        title,
      }, now);
      op = addMemberOps(op, conv.id, ownerId, "owner", START, now);
      return joinIndex(op, conv.id, ownerId, created.head);
    });
  }
  return conv;
}

/** Changes a group's title, with a "renamed" system message by `actorId`. */
export async function setTitle(
  kv: Deno.Kv,
  convId: string,
  title: string,
  actorId = "",
  out: Message[] = [],
): Promise<void> {
  for (;;) {
    const [entry, head] = await retry(() =>
      kv.getMany<[ConversationRecord, Head]>([keys.conversation(convId), keys.head(convId)])
    );
    if (!entry.value) throw new AppError("not_found", "That conversation does not exist.");
    const next = { ...entry.value, title };
    let system: Message | null = null;
    const ok = await appendEvents(
      kv,
      [{ type: "conversation_changed", conversationId: convId }],
      (op) => {
        op = op.check(entry).check(head).set(keys.conversation(convId), next);
        if (head.value && entry.value!.kind === "group") {
          system = addSystemMessage(op, convId, head.value, { action: "renamed", actorId, title })
            .message;
        }
        return op;
      },
    );
    if (ok) {
      if (system) out.push(system);
      return;
    }
  }
}

/**
 * Adds a member (no-op when already one). A new member sees the history, nothing unread.
 * Returns the logged event (for the caller to publish at once), or null when already a member.
 */
export async function addMember(
  kv: Deno.Kv,
  convId: string,
  userId: string,
  actorId = userId,
  out: Message[] = [],
): Promise<LoggedEvent[] | null> {
  for (;;) {
    const [convEntry, memberEntry, headEntry] = await retry(() =>
      kv.getMany<[ConversationRecord, MemberRecord, Head]>([
        keys.conversation(convId),
        keys.member(convId, userId),
        keys.head(convId),
      ])
    );
    if (memberEntry.value) return null;
    const conv = convEntry.value;
    if (!conv) throw new AppError("not_found", "That conversation does not exist.");
    if (conv.memberCount >= LIMITS.groupMaxMembers) {
      throw new AppError(
        "invalid_input",
        `A group has at most ${count(LIMITS.groupMaxMembers)} members.`,
      );
    }
    const now = Date.now();
    let system: Message | null = null;
    const logged = await appendEvents(
      kv,
      [{ type: "member_added", conversationId: convId, userId }],
      (op) => {
        op = op.check(convEntry).check(memberEntry).check(headEntry)
          .set(keys.conversation(convId), { ...conv, memberCount: conv.memberCount + 1 });
        let head = headEntry.value;
        if (head && conv.kind === "group") {
          ({ message: system, head } = addSystemMessage(op, convId, head, {
            action: "added",
            actorId,
            userId,
          }, now));
        }
        // A new member sees the history, nothing unread (the system message included).
        const start = head ? { seq: head.seq, n: headCount(head) } : START;
        op = addMemberOps(op, convId, userId, "member", start, now);
        // Last: the list index may write the head again, with the new member in it.
        return head ? indexJoin(op, convId, userId, head) : op;
      },
    );
    if (logged) {
      if (system) out.push(system);
      return logged;
    }
  }
}

/** Changes a member's role. */
export async function setRole(kv: Deno.Kv, convId: string, userId: string, role: Role) {
  for (;;) {
    const entry = await retry(() => kv.get<MemberRecord>(keys.member(convId, userId)));
    if (!entry.value) throw new AppError("not_found", "That user is not a member of this group.");
    const ok = await appendEvents(
      kv,
      [{ type: "conversation_changed", conversationId: convId }],
      (op) => op.check(entry).set(keys.member(convId, userId), { ...entry.value!, role }),
    );
    if (ok) return;
  }
}

/**
 * Removes a member. When the owner goes, the earliest-joined admin (else member) becomes owner;
 * when the last member goes, the group is left empty but kept (its history stays readable to
 * nobody). Returns the logged event (for the caller to publish at once), or null when the user
 * was not a member.
 */
export async function removeMember(
  kv: Deno.Kv,
  convId: string,
  userId: string,
  actorId = userId,
  out: Message[] = [],
): Promise<LoggedEvent[] | null> {
  for (;;) {
    const [convEntry, memberEntry, headEntry] = await retry(() =>
      kv.getMany<[ConversationRecord, MemberRecord, Head]>([
        keys.conversation(convId),
        keys.member(convId, userId),
        keys.head(convId),
      ])
    );
    const conv = convEntry.value;
    if (!conv || !memberEntry.value) return null;
    // A group that falls to the threshold is indexed per member again: it needs everyone.
    const head = headEntry.value;
    const regain = head && !head.inbox && indexedPerMember(conv.memberCount - 1)
      ? (await listAll(kv, { prefix: keys.membersOf(convId) }))
        .map((e) => e.key[2] as string).filter((id) => id !== userId)
      : null;
    let successor: { userId: string; entry: Deno.KvEntry<MemberRecord> } | null = null;
    if (memberEntry.value.role === "owner") {
      const rest = (await listAll<MemberRecord>(kv, { prefix: keys.membersOf(convId) }))
        .filter((e) => e.key[2] !== userId)
        .sort((x, y) =>
          (x.value.role === "admin" ? 0 : 1) - (y.value.role === "admin" ? 0 : 1) ||
          x.value.joinedAt - y.value.joinedAt || String(x.key[2]).localeCompare(String(y.key[2]))
        );
      if (rest[0]) successor = { userId: rest[0].key[2] as string, entry: rest[0] };
    }
    const events: LogEvent[] = [{ type: "member_removed", conversationId: convId, userId }];
    const systems: Message[] = [];
    const logged = await appendEvents(kv, events, (op) => {
      systems.length = 0; // built again when the log's head moved and the commit is retried
      let head = headEntry.value;
      if (head && conv.kind === "group") {
        const left = actorId === userId;
        const sys = addSystemMessage(
          op,
          convId,
          head,
          left ? { action: "left", actorId, userId } : { action: "removed", actorId, userId },
        );
        systems.push(sys.message);
        head = sys.head;
        if (successor) {
          const owner = addSystemMessage(op, convId, head, {
            action: "owner_changed",
            actorId,
            userId: successor.userId,
          });
          systems.push(owner.message);
          // The head written last below must be this one: it holds the stream's newest seq.
          head = owner.head;
        }
      }
      op = op.check(convEntry).check(memberEntry).check(headEntry)
        .set(keys.conversation(convId), { ...conv, memberCount: Math.max(0, conv.memberCount - 1) })
        .delete(keys.member(convId, userId))
        .delete(keys.membership(userId, convId))
        .delete(keys.cursor(convId, userId));
      op = leaveIndex(op.check(headEntry), convId, userId, head);
      if (head?.inbox) {
        op = op.set(keys.head(convId), {
          ...head,
          inbox: head.inbox.filter((id) => id !== userId),
        });
      } else if (head && regain) {
        const next = reindex(op, convId, regain, head, true);
        op = next.op.set(keys.head(convId), next.head);
      }
      if (successor) {
        op = op.check(successor.entry).set(keys.member(convId, successor.userId), {
          ...successor.entry.value,
          role: "owner",
        });
      }
      return op;
    });
    if (logged) {
      out.push(...systems);
      return logged;
    }
  }
}

/** Conversation records for many ids; missing ones are left out. */
export async function getConversations(kv: Deno.Kv, ids: string[]) {
  const entries = await getMany<ConversationRecord>(kv, ids.map(keys.conversation));
  return entries.flatMap((e) => (e.value ? [e.value] : []));
}

/** The list index of a member joining: their own entry, the head's list of members, and the
 * re-indexing of everyone when the group grows past `INBOX_MAX_MEMBERS`. */
function indexJoin(op: Deno.AtomicOperation, convId: string, userId: string, head: Head) {
  if (!head.inbox) return joinIndex(op, convId, userId, head);
  const members = [...head.inbox.filter((id) => id !== userId), userId];
  if (indexedPerMember(members.length)) {
    return joinIndex(op, convId, userId, head).set(keys.head(convId), { ...head, inbox: members });
  }
  const next = reindex(op, convId, members, head, false);
  return next.op.set(keys.head(convId), next.head);
}
