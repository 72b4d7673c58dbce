/**
 * A person's own account: profile and avatar, password, sessions, deletion, export and blocks.
 * Routes (the JSON API and the settings page's forms) call this; it never sees HTTP objects.
 * Every change that others should see live goes through the event log (`user_changed`,
 * `blocks_changed`), so it reaches every isolate whatever BroadcastChannel does.
 * @module
 */
import type { PreviewMaker } from "../attachments/preview.ts";
import { sniffImage } from "../attachments/sniff.ts";
import { hashPassword, verifyPassword } from "../auth/password.ts";
import { clearLoginFailures, reserveLoginAttempt } from "../auth/throttle.ts";
import { AppError } from "../errors.ts";
import { securityEvent } from "../log.ts";
import { LIMITS, type SessionInfo, type User } from "../protocol.ts";
import { eraseUserTraces } from "../store/accounts.ts";
import type { BlobManifest, BlobStore } from "../store/blobs.ts";
import { addBlock, blocks, forgetBlocks, listBlocked, removeBlock } from "../store/blocks.ts";
import { listMemberships, removeMember } from "../store/conversations.ts";
import { appendEvents, type LoggedEvent } from "../store/events.ts";
import { keys } from "../store/keys.ts";
import { retry } from "../store/kv.ts";
import type { UserRecord } from "../store/records.ts";
import {
  getSession,
  listUserSessions,
  revokeSession,
  revokeUserSessions,
} from "../store/sessions.ts";
import {
  deleteUserRecord,
  getUser,
  getUsers,
  publicUser,
  replacePasswordHash,
  updateUser,
} from "../store/users.ts";
import { deviceName } from "./device.ts";
import { exportAccount } from "./export.ts";

/** What the account service needs of the realtime engine. */
export interface AccountsPort {
  /** Events just appended to the log here. */
  publishEvents(items: LoggedEvent[]): void;
}

/** The image types an avatar may be (GIF is not: an avatar does not move). */
const AVATAR_TYPES = new Set(["image/png", "image/jpeg", "image/webp"]);

const badAvatar = () =>
  new AppError("invalid_input", "The avatar must be a PNG, JPEG or WebP image.", {
    field: "avatar",
  });
const avatarTooLarge = () =>
  new AppError(
    "too_large",
    `The avatar must be at most ${LIMITS.avatarMaxBytes / (1024 * 1024)} MiB.`,
    { field: "avatar" },
  );
const wrongPassword = (field: string) =>
  new AppError("forbidden", "That password is not right.", { field });

/** The first 16 hex digits of a SHA-256: a picture's version in its URL. */
async function shortHash(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads a body into memory, refusing it as soon as it passes `max` bytes. */
async function readAtMost(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      reader.cancel().catch(() => {});
      throw avatarTooLarge();
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function once(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
}

export class AccountService {
  constructor(
    private kv: Deno.Kv,
    private blobs: BlobStore,
    private previews: PreviewMaker,
    private realtime: AccountsPort,
  ) {}

  async #record(userId: string): Promise<UserRecord> {
    const user = await getUser(this.kv, userId);
    if (!user) throw new AppError("unauthorized", "That account no longer exists.");
    return user;
  }

  /** Tells every isolate that a user's profile changed (they send `{type: "user"}`). */
  async #announce(userId: string): Promise<void> {
    const logged = await appendEvents(this.kv, [{ type: "user_changed", userId }]);
    if (logged) this.realtime.publishEvents(logged);
  }

  // ---- profile -------------------------------------------------------------------------------

  /** Changes the display name; everyone sharing a conversation sees it live. */
  async rename(userId: string, displayName: string): Promise<User> {
    const { after } = await updateUser(this.kv, userId, (u) => ({ ...u, displayName }));
    await this.#announce(userId);
    return publicUser(after);
  }

  /**
   * Replaces the avatar with an image (PNG, JPEG or WebP by its bytes, at most 2 MiB), stored
   * downscaled to at most 256 px a side by the preview worker, which also proves it decodes.
   * @throws AppError `too_large` (413), `invalid_input` with field `avatar` (400)
   */
  async setAvatar(
    userId: string,
    body: ReadableStream<Uint8Array> | null,
    contentLength?: string,
  ): Promise<User> {
    if (contentLength !== undefined && Number(contentLength) > LIMITS.avatarMaxBytes) {
      throw avatarTooLarge();
    }
    if (!body) throw badAvatar();
    const bytes = await readAtMost(body, LIMITS.avatarMaxBytes);
    const sniffed = sniffImage(bytes);
    if (!sniffed || !AVATAR_TYPES.has(sniffed.type)) throw badAvatar();
    const made = await this.previews.make(bytes, sniffed, LIMITS.avatarMaxSide);
    if (!made) throw badAvatar();
    const stored = made.preview ? made.preview.bytes : bytes;
    const type = made.preview ? made.preview.type : sniffed.type;
    const staged = await this.blobs.put(once(stored), { maxBytes: LIMITS.avatarMaxBytes });
    const avatar = { blobId: staged.manifest.id, hash: await shortHash(stored), type };
    for (;;) {
      const entry = await retry(() => this.kv.get<UserRecord>(keys.user(userId)));
      if (!entry.value) {
        await staged.discard();
        throw new AppError("unauthorized", "That account no longer exists.");
      }
      const old = entry.value.avatar;
      let op = this.kv.atomic().check(entry).set(keys.user(userId), { ...entry.value, avatar });
      op = staged.commit(op);
      if (old) op = this.blobs.remove(op, old.blobId);
      if ((await retry(() => op.commit())).ok) break;
    }
    await this.#announce(userId);
    return publicUser({ ...(await this.#record(userId)) });
  }

  /** Removes the avatar (initials are shown instead). */
  async clearAvatar(userId: string): Promise<User> {
    for (;;) {
      const entry = await retry(() => this.kv.get<UserRecord>(keys.user(userId)));
      if (!entry.value) throw new AppError("unauthorized", "That account no longer exists.");
      const old = entry.value.avatar;
      if (!old) return publicUser(entry.value);
      let op = this.kv.atomic().check(entry).set(keys.user(userId), {
        ...entry.value,
        avatar: null,
      });
      op = this.blobs.remove(op, old.blobId);
      if ((await retry(() => op.commit())).ok) break;
    }
    await this.#announce(userId);
    return publicUser(await this.#record(userId));
  }

  /**
   * A user's avatar as stored: its blob and type, if `version` is its current hash (an old
   * version's URL answers 404, so a cached old picture is never mixed with a new URL).
   */
  async avatar(
    userId: string,
    version: string | undefined,
  ): Promise<{ manifest: BlobManifest; type: string; hash: string } | null> {
    const user = await getUser(this.kv, userId);
    const avatar = user?.avatar;
    if (!avatar || (version !== undefined && version !== avatar.hash)) return null;
    const manifest = await this.blobs.stat(avatar.blobId);
    return manifest ? { manifest, type: avatar.type, hash: avatar.hash } : null;
  }

  /** Streams a stored avatar's bytes. */
  read(manifest: BlobManifest): ReadableStream<Uint8Array> {
    return this.blobs.read(manifest);
  }

  // ---- password ------------------------------------------------------------------------------

  /** Checks a password for a sensitive change, throttled like a login (429 past it). */
  async #confirm(user: UserRecord, password: string, addr: string, field: string) {
    const wait = await reserveLoginAttempt(this.kv, user.username, addr);
    if (wait > 0) {
      securityEvent("login_throttled", { username: user.username, addr });
      throw new AppError(
        "rate_limited",
        "Too many wrong passwords. Please wait a few minutes and try again.",
        { retryAfterMs: wait },
      );
    }
    if (!(await verifyPassword(password, user.passwordHash))) {
      securityEvent("login_failed", { username: user.username, addr, known: true });
      throw wrongPassword(field);
    }
    await clearLoginFailures(this.kv, user.username, addr);
  }

  /**
   * Changes the password. Every other session is revoked (their sockets close with 4001); the
   * one making the change stays signed in.
   * @throws AppError `forbidden` (field `currentPassword`), `rate_limited`
   */
  async changePassword(
    userId: string,
    sessionId: string,
    input: { currentPassword: string; newPassword: string },
    addr: string,
  ): Promise<{ revoked: number }> {
    const user = await this.#record(userId);
    await this.#confirm(user, input.currentPassword, addr, "currentPassword");
    const fresh = await hashPassword(input.newPassword);
    if (!(await replacePasswordHash(this.kv, userId, user.passwordHash, fresh))) {
      throw new AppError("conflict", "Your password was changed meanwhile. Please try again.");
    }
    securityEvent("password_changed", { userId, by: "user" });
    return { revoked: await revokeUserSessions(this.kv, userId, sessionId, "password_changed") };
  }

  // ---- sessions ------------------------------------------------------------------------------

  /** The user's signed-in devices, the current one marked. */
  async sessions(userId: string, currentId: string): Promise<SessionInfo[]> {
    const list = await listUserSessions(this.kv, userId);
    return list.map((s) => ({
      id: s.id,
      current: s.id === currentId,
      createdTs: s.createdAt,
      lastUsedTs: s.lastUsedAt ?? s.createdAt,
      userAgent: s.userAgent ?? null,
      device: deviceName(s.userAgent),
    }));
  }

  /**
   * Signs one of the user's sessions out. Another user's session, or one that is gone, is 404.
   */
  async revokeSession(userId: string, sessionId: string): Promise<void> {
    const session = await getSession(this.kv, sessionId);
    if (!session || session.userId !== userId) {
      throw new AppError("not_found", "That session does not exist or has already ended.");
    }
    await revokeSession(this.kv, sessionId, "user");
  }

  /** Signs every session but the current one out. Returns how many. */
  revokeOthers(userId: string, currentId: string): Promise<number> {
    return revokeUserSessions(this.kv, userId, currentId, "user");
  }

  // ---- deletion ------------------------------------------------------------------------------

  /**
   * Deletes the account: sessions revoked (sockets close with 4001), every conversation left
   * (a group's ownership passes on), name, avatar, presence, blocks and throttles erased, the
   * username freed. Messages stay, shown as from a deleted account.
   * @throws AppError `forbidden` (field `password`), `rate_limited`
   */
  async deleteAccount(userId: string, password: string, addr: string): Promise<void> {
    const user = await this.#record(userId);
    await this.#confirm(user, password, addr, "password");
    await revokeUserSessions(this.kv, userId, null, "account_deleted");
    for (const convId of await listMemberships(this.kv, userId)) {
      const logged = await removeMember(this.kv, convId, userId);
      if (logged) this.realtime.publishEvents(logged);
    }
    await forgetBlocks(this.kv, userId);
    const deleted = await deleteUserRecord(this.kv, userId);
    if (deleted?.avatar) {
      await retry(() => this.blobs.remove(this.kv.atomic(), deleted.avatar!.blobId).commit());
    }
    // After the record: a sign-in or socket racing the deletion cannot write them back usefully.
    await eraseUserTraces(this.kv, user);
    await this.#announce(userId);
    securityEvent("account_deleted", { userId, by: "user" });
  }

  // ---- export --------------------------------------------------------------------------------

  /** The user's own data as JSON lines, streamed (see `exportAccount`). */
  export(userId: string): ReadableStream<Uint8Array> {
    return exportAccount(this.kv, userId);
  }

  // ---- blocks --------------------------------------------------------------------------------

  /** The users the caller blocks. */
  async blocked(userId: string): Promise<User[]> {
    const ids = await listBlocked(this.kv, userId);
    const byId = new Map((await getUsers(this.kv, ids)).map((u) => [u.id, publicUser(u)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * Blocks a user: they can no longer start a direct conversation with the caller or send into
   * one, add the caller to a group, or see the caller's presence and typing.
   * @throws AppError `invalid_input` (oneself), `not_found` (no such user)
   */
  async block(userId: string, otherId: string): Promise<void> {
    if (otherId === userId) {
      throw new AppError("invalid_input", "You cannot block yourself.", { field: "userId" });
    }
    if (!(await getUser(this.kv, otherId))) {
      throw new AppError("not_found", "That user does not exist.", { field: "userId" });
    }
    await addBlock(this.kv, userId, otherId);
    await this.#blocksChanged(userId);
  }

  /** Lifts a block (a no-op when there is none). */
  async unblock(userId: string, otherId: string): Promise<void> {
    await removeBlock(this.kv, userId, otherId);
    await this.#blocksChanged(userId);
  }

  /** Whether `blockerId` blocks `otherId`. */
  blocks(blockerId: string, otherId: string): Promise<boolean> {
    return blocks(this.kv, blockerId, otherId);
  }

  async #blocksChanged(userId: string): Promise<void> {
    const logged = await appendEvents(this.kv, [{ type: "blocks_changed", userId }]);
    if (logged) this.realtime.publishEvents(logged);
  }
}
