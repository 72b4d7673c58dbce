/**
 * Accounts and sessions: register, login, refresh, logout, and turning a request's
 * credentials into a user. Routes call this; it never sees HTTP objects.
 * @module
 */
import { AppError } from "../errors.ts";
import { securityEvent } from "../log.ts";
import type { User } from "../protocol.ts";
import {
  createSession,
  getSession,
  revokeSession,
  rotateSession,
  sessionFromCookie,
  type SessionRecord,
  type SessionSecrets,
  touchSession,
} from "../store/sessions.ts";
import {
  createUser,
  getUser,
  getUserByName,
  publicUser,
  replacePasswordHash,
} from "../store/users.ts";
import { log } from "../log.ts";
import { burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from "./password.ts";
import { clearLoginFailures, reserveLoginAttempt, reserveRegistration } from "./throttle.ts";
import type { TokenSigner } from "./tokens.ts";

/** What a successful register, login or refresh hands back. */
export interface Grant {
  user: User;
  sessionId: string;
  accessToken: string;
  expiresIn: number;
  secrets: SessionSecrets;
}

/** Who is making a request. */
export interface Principal {
  user: User;
  sessionId: string;
  /** Set when this request renewed a cookie session (its sliding lifetime): the edge sends
   * the cookie again with this many seconds to live. */
  renewedForSec?: number;
}

export class AuthService {
  constructor(
    private kv: Deno.Kv,
    private signer: TokenSigner,
    private sessionTtlSec: number,
    /** Accounts one client address may create per hour; 0 = no limit. */
    private registrationsPerHour: number,
    /** The longest a session lives however often it is renewed (SESSION_MAX_SEC). */
    private sessionMaxSec?: number,
  ) {}

  #newSession(userId: string, userAgent?: string | null) {
    return createSession(this.kv, userId, this.sessionTtlSec, {
      userAgent,
      maxSec: this.sessionMaxSec,
    });
  }

  async #grant(user: User, sessionId: string, secrets: SessionSecrets): Promise<Grant> {
    const accessToken = await this.signer.sign({ userId: user.id, sessionId });
    return { user, sessionId, accessToken, expiresIn: this.signer.ttlSec, secrets };
  }

  /**
   * Creates an account and signs it in.
   * @throws AppError `rate_limited` when `addr` created too many accounts this hour,
   * `username_taken`.
   */
  async register(
    input: { username: string; password: string; displayName?: string },
    addr: string,
    userAgent?: string | null,
  ) {
    // Counted before the (deliberately slow) password hash, so a flood costs us little.
    const wait = await reserveRegistration(this.kv, addr, this.registrationsPerHour);
    if (wait > 0) {
      securityEvent("register_limited", { addr });
      throw new AppError(
        "rate_limited",
        "Too many accounts were created from your network recently. Please try again later.",
        { retryAfterMs: wait },
      );
    }
    const passwordHash = await hashPassword(input.password);
    const record = await createUser(this.kv, { ...input, passwordHash });
    const { session, secrets } = await this.#newSession(record.id, userAgent);
    return await this.#grant(publicUser(record), session.id, secrets);
  }

  /**
   * Signs in. Unknown user and wrong password get the same answer after the same work.
   * @throws AppError `rate_limited` past the throttle, `unauthorized` on bad credentials.
   */
  async login(
    input: { username: string; password: string },
    addr: string,
    userAgent?: string | null,
  ): Promise<Grant> {
    const username = input.username.toLowerCase();
    // Counted before the check, so parallel guesses cannot all slip under the limit.
    const wait = await reserveLoginAttempt(this.kv, username, addr);
    if (wait > 0) {
      securityEvent("login_throttled", { username, addr });
      throw new AppError(
        "rate_limited",
        "Too many failed sign-in attempts. Please wait a few minutes and try again.",
        { retryAfterMs: wait },
      );
    }
    const record = await getUserByName(this.kv, username);
    const ok = record
      ? await verifyPassword(input.password, record.passwordHash)
      : (await burnPasswordCheck(input.password), false);
    if (!record || !ok) {
      securityEvent("login_failed", { username, addr, known: record !== null });
      throw new AppError("unauthorized", "That username and password do not match.");
    }
    await clearLoginFailures(this.kv, username, addr);
    // The only moment the password is at hand: a hash of older, cheaper parameters is replaced.
    if (needsRehash(record.passwordHash)) {
      const fresh = await hashPassword(input.password);
      await replacePasswordHash(this.kv, record.id, record.passwordHash, fresh).catch((err) =>
        log.warn("rehash failed", { error: String(err) })
      );
    }
    const { session, secrets } = await this.#newSession(record.id, userAgent);
    return await this.#grant(publicUser(record), session.id, secrets);
  }

  /**
   * Notes that a session is in use (a socket connected): `lastUsedTs`, and a sliding expiry,
   * written at most every five minutes.
   */
  async touch(sessionId: string): Promise<void> {
    const session = await getSession(this.kv, sessionId);
    if (session) await touchSession(this.kv, session, this.sessionTtlSec);
  }

  /** Rotates a session by its refresh token (JSON clients) or cookie (browsers). */
  async refresh(token: string, kind: "refresh" | "cookie"): Promise<Grant> {
    const rotated = await rotateSession(this.kv, token, kind, this.sessionTtlSec);
    const record = rotated && await getUser(this.kv, rotated.session.userId);
    if (!rotated || !record) {
      throw new AppError("unauthorized", "Your session has ended. Please sign in again.");
    }
    return await this.#grant(publicUser(record), rotated.session.id, rotated.secrets);
  }

  /** Revokes a session: its tokens stop working and its sockets close with 4001. */
  async logout(sessionId: string): Promise<void> {
    await revokeSession(this.kv, sessionId);
  }

  /** The principal behind a bearer access token, if it is valid and its session is live. */
  async fromAccessToken(token: string): Promise<Principal | null> {
    const claims = await this.signer.verify(token);
    if (!claims) return null;
    const session = await getSession(this.kv, claims.sessionId);
    if (!session || session.userId !== claims.userId) return null;
    const record = await getUser(this.kv, claims.userId);
    return record ? { user: publicUser(record), sessionId: session.id } : null;
  }

  /** The principal behind a browser session cookie, if it is live. */
  async fromCookie(cookieToken: string): Promise<Principal | null> {
    const session = await sessionFromCookie(this.kv, cookieToken);
    const record = session && await getUser(this.kv, session.userId);
    if (!record || !session) return null;
    // A browser session slides while in use (at most one write per five minutes).
    const renewed: SessionRecord | null = await touchSession(this.kv, session, this.sessionTtlSec);
    return {
      user: publicUser(record),
      sessionId: session.id,
      ...(renewed
        ? { renewedForSec: Math.max(1, Math.floor((renewed.expiresAt - Date.now()) / 1000)) }
        : {}),
    };
  }
}
