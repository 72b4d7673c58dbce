/**
 * Every Deno KV key Parley uses is built here, and only here.
 *
 * | key                                   | value                      | written by                  |
 * |---------------------------------------|----------------------------|-----------------------------|
 * | ["config", "jwt_secret"]              | string (random, base64)    | store/secrets.ts, once      |
 * | ["ready-probe"]                       | never written (read only)  | store/kv.ts `probe`         |
 * | ["users", userId]                     | UserRecord                 | store/users.ts              |
 * | ["users_by_name", username]           | userId                     | store/users.ts (atomic)     |
 * | ["users_by_word", word, userId]       | userId (folded words)      | store/users.ts (atomic)     |
 * | ["meta", "users_by_word_built"]       | true, once index is built  | schema.ts step 1 → 2        |
 * | ["sessions", sessionId]               | SessionRecord (expiring)   | store/sessions.ts           |
 * | ["login_fail", scope, subject]        | {count, resetAt} (expiring)| store/throttle.ts           |
 * | ["registrations", addr]               | {count, resetAt} (expiring)| store/throttle.ts           |
 * | ["conversations", convId]             | ConversationRecord         | store/conversations.ts      |
 * | ["direct", userIdA, userIdB] (sorted) | convId                     | store/conversations.ts      |
 * | ["members", convId, userId]           | MemberRecord               | store/conversations.ts      |
 * | ["memberships", userId, convId]       | {joinedAt}                 | store/conversations.ts      |
 * | ["head", convId]                      | Head {seq, ts, last}       | store/messages.ts (watched) |
 * | ["messages", convId, seq]             | Message                    | store/messages.ts           |
 * | ["idem", convId, messageId]           | {seq, ts, senderId}        | store/messages.ts           |
 * | ["cursor", convId, userId]            | number (last read seq)     | store/messages.ts           |
 * | ["events_head"]                       | number (last event seq)    | store/events.ts (watched)   |
 * | ["events", seq]                       | BusEvent (expiring)        | store/events.ts             |
 * | ["online", userId, isolateId]         | {since} (expiring)         | store/presence.ts           |
 * | ["last_seen", userId]                 | number (ts)                | store/presence.ts           |
 * | ["blob_manifests", blobId]            | BlobManifest               | store/blobs.ts (+ caller's) |
 * | ["blob_chunks", blobId, index]        | Uint8Array (≤ 64 KiB)      | store/blobs.ts              |
 * | ["blob_gc", dueAt, blobId]            | {reason} (chunks to sweep) | store/blobs.ts              |
 * | ["attachments", attachmentId]         | AttachmentRecord           | store/attachments.ts        |
 * | ["attachments_unsent", dueAt, attId]  | true (until a message)     | store/attachments.ts        |
 * | ["upload_window", userId]             | {start} (quota window)     | store/attachments.ts        |
 * | ["upload_used", userId, windowStart]  | Deno.KvU64 (bytes in it)   | store/attachments.ts        |
 * | ["sockets", scope, subject, isolateId]| number (expiring)          | store/sockets.ts            |
 * | ["limit", name, subject]              | {tokens, at} (expiring)    | store/limits.ts             |
 * | ["meta", "schema_version"]            | number (store schema)      | store/schema.ts             |
 * | ["metrics", isolateId, part]          | gzip'd snapshot (expiring) | store/metrics.ts, every 5 s |
 * | ["blob_bytes"]                        | Deno.KvU64 (chunk bytes)   | store/blobs.ts (chunk commits) |
 * | ["versions", convId, version]         | VersionRecord (target seq) | store/changes.ts (stream.ts)|
 * | ["reaction_sums", convId, seq]        | Reaction[] (first 50 ids)  | store/changes.ts            |
 * | ["reactions", convId, seq, emoji, uid]| number (the change's seq)  | store/changes.ts            |
 * | ["mentions", userId, convId, seq]     | true (unread mention)      | store/messages.ts, changes  |
 * | ["user_sessions", userId, sessionId]  | {createdAt, expiresAt} (ex)| store/sessions.ts (atomic)  |
 * | ["meta", "user_sessions_built"]       | true, once index is built  | store/sessions.ts, at start |
 * | ["blocks", blockerId, blockedId]      | {at}                       | store/blocks.ts (atomic)    |
 * | ["blocked_by", blockedId, blockerId]  | {at} (reverse of blocks)   | store/blocks.ts (atomic)    |
 * | ["inbox", userId, activityTs, convId] | true (small conversations) | store/inbox.ts, in commits  |
 * | ["big_groups", userId, convId]        | true (groups > 50 members) | store/inbox.ts              |
 * | ["conv_settings", convId, userId]     | ConvSettings {muted, ...}  | store/inbox.ts              |
 * | ["archived", userId, convId]          | true (archive view index)  | store/inbox.ts              |
 * | ["meta", "list_index_built"]          | true, once index is built  | store/inbox.ts, at start    |
 *
 * Uniqueness (usernames, direct pairs, message ids) and sequence numbers come from
 * `kv.atomic().check(...)`, never from a read followed by an unchecked write.
 * @module
 */

export const keys = {
  jwtSecret: () => ["config", "jwt_secret"] as const,
  readyProbe: () => ["ready-probe"] as const,
  user: (userId: string) => ["users", userId] as const,
  usersPrefix: () => ["users"] as const,
  userByName: (username: string) => ["users_by_name", username] as const,
  usersByNamePrefix: () => ["users_by_name"] as const,
  /** One entry per word of a user's display name and username (folded: lower case, no
   * accents), so a search for any word's start is a range scan. */
  userByWord: (word: string, userId: string) => ["users_by_word", word, userId] as const,
  usersByWordPrefix: () => ["users_by_word"] as const,
  /** Set once every user has their `users_by_word` entries (older stores: schema step 1 → 2). */
  userWordsBuilt: () => ["meta", "users_by_word_built"] as const,
  session: (sessionId: string) => ["sessions", sessionId] as const,
  loginFail: (scope: "user" | "addr", subject: string) => ["login_fail", scope, subject] as const,
  registrations: (addr: string) => ["registrations", addr] as const,
  conversation: (convId: string) => ["conversations", convId] as const,
  direct: (a: string, b: string) =>
    (a < b ? ["direct", a, b] : ["direct", b, a]) as readonly [
      string,
      string,
      string,
    ],
  member: (convId: string, userId: string) => ["members", convId, userId] as const,
  membersOf: (convId: string) => ["members", convId] as const,
  membership: (userId: string, convId: string) => ["memberships", userId, convId] as const,
  membershipsOf: (userId: string) => ["memberships", userId] as const,
  head: (convId: string) => ["head", convId] as const,
  message: (convId: string, seq: number) => ["messages", convId, seq] as const,
  messagesOf: (convId: string) => ["messages", convId] as const,
  idem: (convId: string, messageId: string) => ["idem", convId, messageId] as const,
  cursor: (convId: string, userId: string) => ["cursor", convId, userId] as const,
  cursorsOf: (convId: string) => ["cursor", convId] as const,
  eventsHead: () => ["events_head"] as const,
  event: (seq: number) => ["events", seq] as const,
  eventsPrefix: () => ["events"] as const,
  online: (userId: string, isolateId: string) => ["online", userId, isolateId] as const,
  onlineOf: (userId: string) => ["online", userId] as const,
  lastSeen: (userId: string) => ["last_seen", userId] as const,
  blobManifest: (blobId: string) => ["blob_manifests", blobId] as const,
  blobChunk: (blobId: string, index: number) => ["blob_chunks", blobId, index] as const,
  blobChunksOf: (blobId: string) => ["blob_chunks", blobId] as const,
  blobGc: (dueAt: number, blobId: string) => ["blob_gc", dueAt, blobId] as const,
  blobGcPrefix: () => ["blob_gc"] as const,
  attachment: (attId: string) => ["attachments", attId] as const,
  attachmentUnsent: (dueAt: number, attId: string) => ["attachments_unsent", dueAt, attId] as const,
  attachmentsUnsentPrefix: () => ["attachments_unsent"] as const,
  uploadWindow: (userId: string) => ["upload_window", userId] as const,
  uploadUsed: (userId: string, windowStart: number) =>
    ["upload_used", userId, windowStart] as const,
  sockets: (scope: "user" | "addr", subject: string, isolateId: string) =>
    ["sockets", scope, subject, isolateId] as const,
  socketsOf: (scope: "user" | "addr", subject: string) => ["sockets", scope, subject] as const,
  limit: (name: string, subject: string) => ["limit", name, subject] as const,
  schemaVersion: () => ["meta", "schema_version"] as const,
  metaPrefix: () => ["meta"] as const,
  metricsPart: (isolateId: string, part: number) => ["metrics", isolateId, part] as const,
  metricsPrefix: () => ["metrics"] as const,
  /** Bytes held in blob chunks, added and taken away in the commits that write and delete them. */
  blobBytes: () => ["blob_bytes"] as const,
  /** The changes in the stream: one entry per changed message, at its current version (a
   * change deletes the entry it supersedes); an unchanged message has none, its seq is its
   * version. Stores older than schema 4 also hold `seq → seq` entries for unchanged messages. */
  version: (convId: string, version: number) => ["versions", convId, version] as const,
  versionsOf: (convId: string) => ["versions", convId] as const,
  reactionSum: (convId: string, seq: number) => ["reaction_sums", convId, seq] as const,
  reaction: (convId: string, seq: number, emoji: string, userId: string) =>
    ["reactions", convId, seq, emoji, userId] as const,
  reactionsOf: (convId: string, seq: number) => ["reactions", convId, seq] as const,
  reactionsOfEmoji: (convId: string, seq: number, emoji: string) =>
    ["reactions", convId, seq, emoji] as const,
  mention: (userId: string, convId: string, seq: number) =>
    ["mentions", userId, convId, seq] as const,
  mentionsOf: (userId: string) => ["mentions", userId] as const,
  mentionsIn: (userId: string, convId: string) => ["mentions", userId, convId] as const,
  /** A user's sessions, so they can be listed and revoked without scanning every session. */
  userSession: (userId: string, sessionId: string) => ["user_sessions", userId, sessionId] as const,
  userSessionsOf: (userId: string) => ["user_sessions", userId] as const,
  userSessionsBuilt: () => ["meta", "user_sessions_built"] as const,
  block: (blockerId: string, blockedId: string) => ["blocks", blockerId, blockedId] as const,
  blocksOf: (blockerId: string) => ["blocks", blockerId] as const,
  blockedBy: (blockedId: string, blockerId: string) =>
    ["blocked_by", blockedId, blockerId] as const,
  blockedByOf: (blockedId: string) => ["blocked_by", blockedId] as const,
  /** A user's direct chats and groups of at most 50 members by last activity: moved in the
   * message's own commit (see store/inbox.ts). */
  inbox: (userId: string, ts: number, convId: string) => ["inbox", userId, ts, convId] as const,
  inboxOf: (userId: string) => ["inbox", userId] as const,
  /** A user's groups of more than 50 members, read at query time (no write per message). */
  bigGroup: (userId: string, convId: string) => ["big_groups", userId, convId] as const,
  bigGroupsOf: (userId: string) => ["big_groups", userId] as const,
  convSettings: (convId: string, userId: string) => ["conv_settings", convId, userId] as const,
  convSettingsOf: (convId: string) => ["conv_settings", convId] as const,
  archived: (userId: string, convId: string) => ["archived", userId, convId] as const,
  archivedOf: (userId: string) => ["archived", userId] as const,
  /** Set once every conversation has its list index (built at start for older data). */
  listIndexBuilt: () => ["meta", "list_index_built"] as const,
  conversationsPrefix: () => ["conversations"] as const,
};
