/**
 * The shapes of what KV holds, for every store module: one place to read the schema's values
 * (keys.ts has the keys), and a module with no imports of its own at run time, so store modules
 * that share a record type need not import each other.
 * @module
 */
import type { ConversationKind, Message, Role, User } from "../protocol.ts";

/** What KV holds for a user; `passwordHash` never leaves the server. */
export interface UserRecord extends Omit<User, "avatarUrl"> {
  passwordHash: string;
  createdAt: number;
  /** The avatar's blob and a short content hash (the URL's `v`), when the user has one. */
  avatar?: { blobId: string; hash: string; type: string } | null;
}

/** A server-side session, with its credentials stored only as hashes. */
export interface SessionRecord {
  id: string;
  userId: string;
  refreshHash: string;
  /** Hashes of the refresh tokens this session handed out before the current one, newest
   * first (a few): presenting one of them again is the sign of a stolen copy. */
  usedRefreshHashes?: string[];
  cookieHash: string;
  createdAt: number;
  expiresAt: number;
  /** When the session was last seen in use (written at most every few minutes). */
  lastUsedAt?: number;
  /** The User-Agent it signed in with (shortened), to name the device in the sessions list. */
  userAgent?: string;
  /** The absolute end: sliding never takes `expiresAt` past it (SESSION_MAX_SEC). */
  maxExpiresAt?: number;
}

export interface ConversationRecord {
  id: string;
  kind: ConversationKind;
  /** Groups only; a direct conversation is titled by the peer's name. */
  title: string;
  createdAt: number;
  createdBy: string;
  memberCount: number;
  /** Direct conversations only: the two members. */
  pair?: [string, string];
}

export interface MemberRecord {
  role: Role;
  joinedAt: number;
}

/** The newest state of a conversation: what other isolates watch to learn of new messages. */
export interface Head {
  /** The stream's last seq (messages, changes and group changes). */
  seq: number;
  /** The newest message's time: changes do not move it (it is `lastActivityTs`). */
  ts: number;
  /** The newest message in its current state (its reply excerpt and reactions left out). */
  last: Message | null;
  /** How many messages other than system ones the stream holds: `unread` is this minus the
   * reader's cursor's `n`. Absent on heads from before it (then every seq was a message). */
  n?: number;
  /** The members of a conversation of at most 50 (absent when larger): the message commit,
   * which checks the head anyway, moves each one's `inbox` entry from `ts` to its own ts.
   * Every writer of a head must carry it over. */
  inbox?: string[];
}

/** One member's settings of a conversation. */
export interface ConvSettings {
  muted: boolean;
  /** The head's seq when archived, null when not archived. The conversation stays archived
   * while no other member's message has a seq above it (or while muted). */
  archivedSeq: number | null;
}

/**
 * A read cursor: the stream position read up to, and the message counter (`Head.n`) there.
 * A bare number is a cursor from before the counter (every seq was then a message).
 */
export type CursorRecord = number | { seq: number; n: number };

/** What the idempotency index remembers of a stored message or change: enough to repeat its
 * ack. `op` and `target` mark a change (absent for a message). */
export interface IdemRecord {
  seq: number;
  ts: number;
  senderId: string;
  op?: "edit" | "delete" | "react";
  target?: number;
}

/** An entry of the version index: the seq of the message a version belongs to, and for a
 * change its client id (so the acting connection is left out of the `update`, whichever path
 * delivers it). A message's own entry is its seq alone. */
export type VersionRecord = number | { seq: number; id: string };

/** Events every isolate must see, whatever BroadcastChannel does. */
export type LogEvent =
  | { type: "revoke"; sessionId: string; userId: string }
  | {
    type: "receipt";
    conversationId: string;
    userId: string;
    seq: number;
    connectionId: string | null;
  }
  | { type: "member_added"; conversationId: string; userId: string }
  | { type: "member_removed"; conversationId: string; userId: string }
  | { type: "conversation_changed"; conversationId: string }
  /** A profile changed: isolates send `{type: "user"}` to their members who share a
   * conversation with the user. */
  | { type: "user_changed"; userId: string }
  /** A user's block list changed: isolates drop what they cached of it. */
  | { type: "blocks_changed"; userId: string };

/** An event of the log under its sequence number. */
export interface LoggedEvent {
  seq: number;
  event: LogEvent;
}

/** What presence keeps per user and isolate while a connection lives (expiring). */
export interface OnlineRecord {
  since: number;
}
