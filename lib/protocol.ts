/**
 * The wire contract's shapes and limits, shared by the server, the browser islands and the
 * load generator. Browser compatible: no Deno APIs, no imports, no side effects.
 * @module
 */

/** Stable machine codes carried by every error, HTTP or WebSocket. */
export type ErrorCode =
  | "invalid_input"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "username_taken"
  | "rate_limited"
  | "too_large"
  | "conflict"
  | "internal"
  | "unavailable";

/** The body of every error answer. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** The input field at fault, for `invalid_input`. */
  field?: string;
  /** How long to wait before trying again, for `rate_limited`. */
  retryAfterMs?: number;
}

export interface User {
  id: string;
  username: string;
  displayName: string;
}

export interface UserWithPresence extends User {
  online: boolean;
  lastSeen?: number | null;
}

export type MessageKind = "text" | "image" | "file";

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  kind: MessageKind;
  body: string;
  ts: number;
}

export type ConversationKind = "direct" | "group";
export type Role = "owner" | "admin" | "member";

export interface Conversation {
  id: string;
  kind: ConversationKind;
  title: string;
  peer: (User & { online: boolean; lastSeen: number | null }) | null;
  lastMessage: Message | null;
  lastSeq: number;
  lastReadSeq: number;
  unread: number;
  lastActivityTs: number;
}

export interface Member extends User {
  role: Role;
  online: boolean;
  lastReadSeq: number;
}

/** Frames a client sends. */
export type ClientFrame =
  | { type: "send"; id: string; conversationId: string; body: string; kind?: MessageKind }
  | { type: "sync"; conversationId: string; afterSeq: number; limit?: number; reqId?: string }
  | { type: "read"; conversationId: string; seq: number; reqId?: string }
  | { type: "typing"; conversationId: string; reqId?: string }
  | { type: "ping"; reqId?: string };

/** Frames the server sends. One server text message is a frame or an array of frames. */
export type ServerFrame =
  | { type: "ready"; userId: string; connectionId: string }
  | { type: "ack"; id: string; conversationId: string; seq: number; ts: number }
  | { type: "message"; message: Message }
  | {
    type: "messages";
    conversationId: string;
    messages: Message[];
    hasMore: boolean;
    reqId?: string;
  }
  | { type: "receipt"; conversationId: string; userId: string; seq: number }
  | { type: "typing"; conversationId: string; userId: string }
  | { type: "presence"; userId: string; online: boolean; lastSeen: number | null }
  | { type: "conversation"; conversation: Conversation }
  | { type: "removed"; conversationId: string }
  | { type: "pong"; ts: number; reqId?: string }
  | { type: "error"; id?: string; reqId?: string; error: ErrorBody };

/** Limits the contract promises. */
export const LIMITS = {
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 256,
  displayNameMax: 64,
  titleMax: 100,
  bodyMaxCodePoints: 4000,
  frameMaxBytes: 64 * 1024,
  jsonBodyMaxBytes: 64 * 1024,
  groupMaxMembers: 5000,
  pageDefault: 50,
  pageMax: 100,
  syncMax: 100,
  searchMax: 20,
} as const;

/** WebSocket close codes and what they tell a client to do. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  revoked: 4001,
  heartbeatTimeout: 4002,
} as const;

/** A client must speak at least this often; the server closes after `silentCloseMs`. */
export const HEARTBEAT = { clientIntervalMs: 25_000, silentCloseMs: 60_000 } as const;
