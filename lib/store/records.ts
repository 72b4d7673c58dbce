/**
 * The shapes of what KV holds, for every store module: one place to read the schema's values
 * (keys.ts has the keys), and a module with no imports of its own at run time, so store modules
 * that share a record type need not import each other.
 * @module
 */
import type { ConversationKind, Message, Role, User } from "../protocol.ts";

/** What KV holds for a user; `passwordHash` never leaves the server. */
export interface UserRecord extends User {
  passwordHash: string;
  createdAt: number;
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
  seq: number;
  ts: number;
  last: Message | null;
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

/** What the idempotency index remembers of a stored message: enough to repeat its ack. */
export interface IdemRecord {
  seq: number;
  ts: number;
  senderId: string;
}

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
  | { type: "conversation_changed"; conversationId: string };

/** An event of the log under its sequence number. */
export interface LoggedEvent {
  seq: number;
  event: LogEvent;
}

/** What presence keeps per user and isolate while a connection lives (expiring). */
export interface OnlineRecord {
  since: number;
}
