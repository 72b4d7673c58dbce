/**
 * The wire contract's shapes and limits, shared by the server, the browser islands and the
 * load generator. Browser compatible: no Deno APIs and no side effects. Client frames are
 * declared once, as the valibot schema the server checks them with (`ClientFrameSchema`); their
 * type is inferred from it, so the two cannot drift. The schemas are built lazily (`@__PURE__`),
 * so a bundle that uses only the types and constants carries none of them.
 * @module
 */
import * as v from "valibot";
import { wellFormed } from "./unicode.ts";

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
  /** `/api/users/:id/avatar?v=<hash>` (immutable: a new picture is a new URL), or null for
   * none, when clients show initials. */
  avatarUrl: string | null;
}

export interface UserWithPresence extends User {
  online: boolean;
  lastSeen?: number | null;
}

/** `system` marks a group change (see `SystemEvent`); clients never send one. */
export type MessageKind = "text" | "image" | "file" | "system";

/**
 * An uploaded file. `type` is an image type only when the bytes are such an image (then
 * `width`, `height` and `previewUrl` are set); otherwise it is the type the client declared,
 * for display only (never an `image/` type), or `application/octet-stream`.
 */
export interface Attachment {
  id: string;
  conversationId: string;
  name: string;
  size: number;
  type: string;
  /** Lowercase hex. */
  sha256: string;
  width: number | null;
  height: number | null;
  previewUrl: string | null;
  url: string;
}

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  kind: MessageKind;
  /** The text, or an image's or file's caption ("" for none). */
  body: string;
  ts: number;
  /** What an `image` or `file` message carries; absent on text messages. */
  attachment?: Attachment | null;
  /** The stream seq of the message's latest change; equal to `seq` while unchanged. Only grows. */
  version: number;
  /** When the body was last edited; null when never. */
  editedTs: number | null;
  /** A deleted message has `body` "", `attachment` null, no reactions and no mentions. */
  deleted: boolean;
  /** In order of first use; `userIds` holds at most the first 50 (`GET .../reactions` has all). */
  reactions: Reaction[];
  /** The message this one answers; `excerpt` is filled from its current state when served. */
  replyTo: ReplyTo | null;
  /** Ids of the members the body names as `@username` (at most 50). */
  mentions: string[];
  /** Present on `kind: "system"` messages only: the group change they record. */
  system?: SystemEvent;
}

/**
 * The change fields of a message nobody has changed yet (what a new message carries).
 * @example
 * const m: Message = { id, conversationId, seq, senderId, kind: "text", body, ts, ...unchanged(seq) };
 */
export function unchanged(seq: number): Pick<
  Message,
  "version" | "editedTs" | "deleted" | "reactions" | "replyTo" | "mentions"
> {
  return {
    version: seq,
    editedTs: null,
    deleted: false,
    reactions: [],
    replyTo: null,
    mentions: [],
  };
}

/** One emoji on a message: how many reacted with it, and (the first 50 of) who. */
export interface Reaction {
  emoji: string;
  count: number;
  userIds: string[];
}

/** What a reply quotes. `excerpt` is at most 100 code points, "" when the original is deleted. */
export interface ReplyTo {
  seq: number;
  senderId: string;
  excerpt: string;
}

/** The group changes that are stored as `kind: "system"` messages. */
export type SystemAction = "created" | "renamed" | "added" | "removed" | "left" | "owner_changed";

/** A group change: who did it (`actorId`), to whom (`userId`), and a new `title` on rename. */
export interface SystemEvent {
  action: SystemAction;
  actorId: string;
  userId?: string;
  title?: string;
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
  /** Unread messages that mention the user. */
  unreadMentions: number;
  /** Set per member (`PATCH /api/conversations/:id/settings`): raises no notifications and
   * does not count in the title's unread total. */
  muted: boolean;
  /** Left the default list: archived, and no other member's message came since (or muted). */
  archived: boolean;
}

/** One page of `GET /api/conversations`: most recent activity first; `nextCursor` (opaque)
 * asks for the page after, null on the last page. */
export interface ConversationPage {
  conversations: Conversation[];
  nextCursor: string | null;
}

/**
 * A page of history (`GET /api/conversations/:id/messages`, the `messages` frame). `users` are
 * the current profiles of the page's senders, members or not: a message keeps its author's name
 * after they leave, for everyone who can read it. A sender missing from `users` has deleted
 * their account ("Deleted account").
 */
export interface HistoryPage {
  messages: Message[];
  hasMore: boolean;
  users: User[];
}

export interface Member extends User {
  role: Role;
  online: boolean;
  lastReadSeq: number;
}

/** Frames the server sends. One server text message is a frame or an array of frames. */
export type ServerFrame =
  | { type: "ready"; userId: string; connectionId: string }
  | {
    type: "ack";
    id: string;
    conversationId: string;
    seq: number;
    ts: number;
    /** On the ack of a change (edit, delete, react): the target's state after it. */
    message?: Message;
  }
  /** A change to a message: `seq` is the change's own stream seq, equal to `message.version`. */
  | { type: "update"; conversationId: string; seq: number; message: Message }
  | { type: "message"; message: Message }
  | {
    type: "messages";
    conversationId: string;
    messages: Message[];
    hasMore: boolean;
    /** The current profiles of the page's senders (see `HistoryPage.users`). */
    users?: User[];
    reqId?: string;
  }
  | { type: "receipt"; conversationId: string; userId: string; seq: number }
  | { type: "typing"; conversationId: string; userId: string }
  | { type: "presence"; userId: string; online: boolean; lastSeen: number | null }
  /** A profile (name, avatar) changed: sent to everyone sharing a conversation with the user. */
  | { type: "user"; user: User }
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
  /** Ids (of users, conversations, messages, requests) a client may send. */
  idMax: 100,
  bodyMaxCodePoints: 4000,
  frameMaxBytes: 64 * 1024,
  jsonBodyMaxBytes: 64 * 1024,
  groupMaxMembers: 5000,
  pageDefault: 50,
  pageMax: 100,
  syncMax: 100,
  searchMax: 20,
  /** The longest user-search query (`GET /api/users?q=`). */
  searchQueryMax: 100,
  attachmentNameMax: 255,
  /** Longest side of an image preview, in pixels. */
  previewMaxSide: 720,
  /** Distinct emoji on one message. */
  reactionsMax: 20,
  /** `Reaction.userIds` on a message; `GET .../reactions` lists every one. */
  reactionUsersShown: 50,
  /** An emoji, in UTF-16 units. */
  emojiMax: 32,
  /** `replyTo.excerpt`, in code points. */
  excerptMax: 100,
  mentionsMax: 50,
  /** The largest avatar upload, in bytes (2 MiB), and the side it is stored at, at most. */
  avatarMaxBytes: 2 * 1024 * 1024,
  avatarMaxSide: 256,
} as const;

/** A signed-in device as `GET /api/me/sessions` lists it. */
export interface SessionInfo {
  id: string;
  /** The session making this request. */
  current: boolean;
  createdTs: number;
  lastUsedTs: number;
  userAgent: string | null;
  /** A name for the device, from the user agent ("Firefox on Windows"). */
  device: string;
}

/** The name shown for the author of messages whose account was deleted. */
export const DELETED_ACCOUNT = "Deleted account";

/**
 * What an attachment's `name` may not contain: control characters (C0, DEL, C1) and the marks,
 * embeddings, overrides and isolates that reorder text (they can disguise "evil‮fdp.exe").
 */
export const NAME_FORBIDDEN =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** WebSocket close codes and what they tell a client to do. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  revoked: 4001,
  heartbeatTimeout: 4002,
  /** Too many connections for the user or address: retry after 30 s. */
  tooMany: 4003,
} as const;

/** A client must speak at least this often; the server closes after `silentCloseMs`. */
export const HEARTBEAT = { clientIntervalMs: 25_000, silentCloseMs: 60_000 } as const;

/** A limit as the messages quote it: `4,000`, `5,000`. */
export const count = (n: number): string => n.toLocaleString("en-US");

/** Field schemas the contract's inputs share; their messages name the field and the limit. */
export const field = {
  id: (name: string) =>
    v.pipe(
      v.string(`${name} must be a string.`),
      v.minLength(1, `${name} is required.`),
      v.maxLength(LIMITS.idMax, `${name} is too long.`),
      // KV turns lone surrogates into U+FFFD: two ids would name one key (contract part F).
      wellFormed(name),
    ),
  seq: (name: string) =>
    v.pipe(
      v.number(`${name} must be a number.`),
      v.integer(`${name} must be a whole number.`),
      v.minValue(0, `${name} must be 0 or more.`),
    ),
  /** A text, or an image's or file's caption. Optional, and may be blank, since a caption may:
   * a text's presence and content are checked by the send path (`checkSendShape`). */
  body: () =>
    v.optional(v.pipe(
      v.string("body must be text."),
      v.check(
        (s) => s.length <= LIMITS.bodyMaxCodePoints || [...s].length <= LIMITS.bodyMaxCodePoints,
        `body must be at most ${count(LIMITS.bodyMaxCodePoints)} characters.`,
      ),
    )),
  kind: () =>
    v.optional(v.picklist(["text", "image", "file"], 'kind must be "text", "image" or "file".')),
  reqId: () => v.optional(v.pipe(v.string("reqId must be a string."), v.maxLength(LIMITS.idMax))),
  /** One emoji: a single grapheme that is pictographic (or a flag or keycap), ≤ 32 UTF-16 units. */
  emoji: () =>
    v.pipe(
      v.string("emoji must be text."),
      v.minLength(1, "emoji is required."),
      v.maxLength(LIMITS.emojiMax, `emoji must be at most ${LIMITS.emojiMax} characters.`),
      wellFormed("emoji"),
      v.check(isOneEmoji, "emoji must be exactly one emoji."),
    ),
};

/** True when `s` is one grapheme that is an emoji (pictograph, flag, or keycap sequence). */
export function isOneEmoji(s: string): boolean {
  if (!/\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u.test(s)) return false;
  if (/[\p{L}\p{N}\p{P}\p{Z}\p{Cc}]/u.test(s.replace(/[#*0-9]\ufe0f?\u20e3/gu, ""))) return false;
  const seg = new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(s);
  let n = 0;
  for (const _ of seg) if (++n > 1) return false;
  return n === 1;
}

/** Frames a client sends, as the server checks them. */
export const ClientFrameSchema = /* @__PURE__ */ (() =>
  v.variant("type", [
    v.object({
      type: v.literal("send"),
      id: field.id("id"),
      conversationId: field.id("conversationId"),
      body: field.body(),
      kind: field.kind(),
      /** The upload an image or file message carries (see `POST .../attachments`). */
      attachmentId: v.optional(field.id("attachmentId")),
      /** The seq of the message this one answers, in the same conversation. */
      replyTo: v.optional(field.seq("replyTo")),
    }),
    v.object({
      type: v.literal("edit"),
      id: field.id("id"),
      conversationId: field.id("conversationId"),
      seq: field.seq("seq"),
      /** Required; checked like a new body (`checkEditShape`). */
      body: field.body(),
    }),
    v.object({
      type: v.literal("delete"),
      id: field.id("id"),
      conversationId: field.id("conversationId"),
      seq: field.seq("seq"),
    }),
    v.object({
      type: v.literal("react"),
      id: field.id("id"),
      conversationId: field.id("conversationId"),
      seq: field.seq("seq"),
      emoji: field.emoji(),
      on: v.boolean("on must be true or false."),
    }),
    v.object({
      type: v.literal("sync"),
      conversationId: field.id("conversationId"),
      afterSeq: field.seq("afterSeq"),
      limit: v.optional(v.pipe(field.seq("limit"), v.minValue(1, "limit must be at least 1."))),
      reqId: field.reqId(),
    }),
    v.object({
      type: v.literal("read"),
      conversationId: field.id("conversationId"),
      seq: field.seq("seq"),
      reqId: field.reqId(),
    }),
    v.object({
      type: v.literal("typing"),
      conversationId: field.id("conversationId"),
      reqId: field.reqId(),
    }),
    v.object({ type: v.literal("ping"), reqId: field.reqId() }),
  ], "type must be one of send, edit, delete, react, sync, read, typing, ping."))();

/** Frames a client sends. */
export type ClientFrame = v.InferOutput<typeof ClientFrameSchema>;
