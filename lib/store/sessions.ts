/**
 * Server-side sessions, so that logout and revocation are real. A session holds two
 * credentials, stored only as SHA-256 hashes: the refresh token (JSON clients; rotated on
 * every refresh) and the browser cookie (rotated on refresh too).
 * @module
 */
import { securityEvent } from "../log.ts";
import { keys } from "./keys.ts";
import { retry } from "./kv.ts";
import { appendEvents } from "./events.ts";
import type { SessionRecord } from "./records.ts";

export type { SessionRecord } from "./records.ts";

/** A session's plain credentials, handed to the client once. */
export interface SessionSecrets {
  refreshToken: string;
  cookieToken: string;
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** SHA-256 of a secret, hex. Only hashes are stored, so a KV leak does not leak sessions. */
export async function hashSecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two equal-length hex strings. */
export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Splits `sessionId.secret`; null when the shape is wrong. */
export function parseToken(token: string): { sessionId: string; secret: string } | null {
  const dot = token.indexOf(".");
  if (dot < 1 || dot === token.length - 1 || token.length > 200) return null;
  return { sessionId: token.slice(0, dot), secret: token.slice(dot + 1) };
}

async function freshSecrets(sessionId: string) {
  const refresh = randomSecret();
  const cookie = randomSecret();
  return {
    secrets: { refreshToken: `${sessionId}.${refresh}`, cookieToken: `${sessionId}.${cookie}` },
    refreshHash: await hashSecret(refresh),
    cookieHash: await hashSecret(cookie),
  };
}

/** How often a session's `lastUsedAt` (and a sliding expiry) is written at most. */
export const TOUCH_EVERY_MS = 5 * 60 * 1000;

/** The longest a User-Agent is kept: enough to name a device, never a whole fingerprint. */
const USER_AGENT_MAX = 256;

/** When a session renewed now ends: `ttlSec` from now, but never past its absolute cap. */
function nextExpiry(now: number, ttlSec: number, maxExpiresAt: number | undefined): number {
  return Math.min(now + ttlSec * 1000, maxExpiresAt ?? Infinity);
}

/** Adds to `op` a session's record and its per-user index entry, expiring together. */
function putSession(op: Deno.AtomicOperation, session: SessionRecord): Deno.AtomicOperation {
  const expireIn = Math.max(1, session.expiresAt - Date.now());
  return op.set(keys.session(session.id), session, { expireIn })
    .set(keys.userSession(session.userId, session.id), {
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
    }, { expireIn });
}

/**
 * Starts a session for a user. `maxSec` caps its whole life, however often it is renewed
 * (SESSION_MAX_SEC); `userAgent` names the device in the user's sessions list.
 */
export async function createSession(
  kv: Deno.Kv,
  userId: string,
  ttlSec: number,
  opts: { userAgent?: string | null; maxSec?: number } = {},
): Promise<{ session: SessionRecord; secrets: SessionSecrets }> {
  const id = crypto.randomUUID();
  const { secrets, refreshHash, cookieHash } = await freshSecrets(id);
  const now = Date.now();
  const maxExpiresAt = opts.maxSec === undefined ? undefined : now + opts.maxSec * 1000;
  const session: SessionRecord = {
    id,
    userId,
    refreshHash,
    cookieHash,
    createdAt: now,
    expiresAt: nextExpiry(now, ttlSec, maxExpiresAt),
    lastUsedAt: now,
    ...(opts.userAgent ? { userAgent: opts.userAgent.slice(0, USER_AGENT_MAX) } : {}),
    ...(maxExpiresAt === undefined ? {} : { maxExpiresAt }),
  };
  await retry(() => putSession(kv.atomic(), session).commit());
  return { session, secrets };
}

/** The live session with this id, or null when it is gone or expired. */
export async function getSession(kv: Deno.Kv, sessionId: string): Promise<SessionRecord | null> {
  const s = (await retry(() => kv.get<SessionRecord>(keys.session(sessionId)))).value;
  return s && s.expiresAt > Date.now() ? s : null;
}

/** The session a browser cookie belongs to, or null. */
export async function sessionFromCookie(
  kv: Deno.Kv,
  cookieToken: string,
): Promise<SessionRecord | null> {
  const parsed = parseToken(cookieToken);
  if (!parsed) return null;
  const session = await getSession(kv, parsed.sessionId);
  if (!session) return null;
  return sameHash(session.cookieHash, await hashSecret(parsed.secret)) ? session : null;
}

/** How many earlier refresh tokens a session recognises as reused. */
const USED_REFRESH_KEPT = 8;

/**
 * Rotates a session's credentials. `kind` says which credential was presented. A refresh
 * token that was already used means it was copied: the whole session is revoked. Any other
 * wrong secret is just refused (knowing a session's id, which is no secret, must not be enough
 * to end it).
 */
export async function rotateSession(
  kv: Deno.Kv,
  token: string,
  kind: "refresh" | "cookie",
  ttlSec: number,
): Promise<{ session: SessionRecord; secrets: SessionSecrets } | null> {
  const parsed = parseToken(token);
  if (!parsed) return null;
  const entry = await retry(() => kv.get<SessionRecord>(keys.session(parsed.sessionId)));
  const session = entry.value;
  if (!session || session.expiresAt <= Date.now()) return null;
  const presented = await hashSecret(parsed.secret);
  if (!sameHash(kind === "refresh" ? session.refreshHash : session.cookieHash, presented)) {
    const reused = kind === "refresh" &&
      (session.usedRefreshHashes ?? []).some((h) => sameHash(h, presented));
    if (reused) {
      securityEvent("refresh_reuse", { sessionId: session.id, userId: session.userId });
      await revokeSession(kv, session.id, "refresh_reuse");
    }
    return null;
  }
  const { secrets, refreshHash, cookieHash } = await freshSecrets(session.id);
  const next: SessionRecord = {
    ...session,
    refreshHash,
    usedRefreshHashes: [session.refreshHash, ...(session.usedRefreshHashes ?? [])].slice(
      0,
      USED_REFRESH_KEPT,
    ),
    cookieHash,
    expiresAt: nextExpiry(Date.now(), ttlSec, session.maxExpiresAt),
    lastUsedAt: Date.now(),
  };
  const res = await retry(() => putSession(kv.atomic().check(entry), next).commit());
  // A concurrent rotation won: this presentation used a token that is no longer current.
  if (!res.ok) return null;
  return { session: next, secrets };
}

/**
 * Notes that a session is in use: writes `lastUsedAt` and slides `expiresAt` (up to its cap),
 * but only when the last write is `TOUCH_EVERY_MS` old, so an active session costs one write
 * per five minutes, not one per request. Returns the renewed record when it wrote, else null.
 */
export async function touchSession(
  kv: Deno.Kv,
  session: SessionRecord,
  ttlSec: number,
  now = Date.now(),
): Promise<SessionRecord | null> {
  if (now - (session.lastUsedAt ?? session.createdAt) < TOUCH_EVERY_MS) return null;
  const entry = await retry(() => kv.get<SessionRecord>(keys.session(session.id)));
  if (!entry.value || entry.value.expiresAt <= now) return null;
  const next: SessionRecord = {
    ...entry.value,
    lastUsedAt: now,
    expiresAt: nextExpiry(now, ttlSec, entry.value.maxExpiresAt),
  };
  // A rotation or revocation meanwhile wins; the touch is only a note.
  const res = await retry(() => putSession(kv.atomic().check(entry), next).commit());
  return res.ok ? next : null;
}

/** A user's live sessions, oldest first (one range read of the index, then the records). */
export async function listUserSessions(kv: Deno.Kv, userId: string): Promise<SessionRecord[]> {
  const ids: string[] = [];
  for await (const e of kv.list({ prefix: keys.userSessionsOf(userId) })) {
    ids.push(e.key[2] as string);
  }
  const now = Date.now();
  const out: SessionRecord[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const entries = await retry(() =>
      kv.getMany<SessionRecord[]>(ids.slice(i, i + 10).map((id) => keys.session(id)))
    );
    for (const e of entries) if (e.value && e.value.expiresAt > now) out.push(e.value);
  }
  return out.sort((a, b) => a.createdAt - b.createdAt);
}

/** Why a session was ended, as the `session_revoked` log line says. */
export type RevokeReason =
  | "logout"
  | "refresh_reuse"
  | "admin"
  | "user"
  | "password_changed"
  | "account_deleted";

/** Ends a session everywhere: its tokens stop working and every isolate closes its sockets. */
export async function revokeSession(
  kv: Deno.Kv,
  sessionId: string,
  reason: RevokeReason = "logout",
): Promise<void> {
  const entry = await retry(() => kv.get<SessionRecord>(keys.session(sessionId)));
  if (!entry.value) return;
  const userId = entry.value.userId;
  securityEvent("session_revoked", { sessionId, userId, reason });
  await appendEvents(
    kv,
    [{ type: "revoke", sessionId, userId }],
    (op) => op.delete(keys.session(sessionId)).delete(keys.userSession(userId, sessionId)),
  );
}

/** Revokes every session of a user but `keep` (null: all). Returns how many it ended. */
export async function revokeUserSessions(
  kv: Deno.Kv,
  userId: string,
  keep: string | null,
  reason: RevokeReason,
): Promise<number> {
  let n = 0;
  for await (const e of kv.list({ prefix: keys.userSessionsOf(userId) })) {
    const id = e.key[2] as string;
    if (id === keep) continue;
    await revokeSession(kv, id, reason);
    // An expired record leaves its index entry to KV's own expiry; drop it now all the same.
    await retry(() => kv.delete(e.key));
    n++;
  }
  return n;
}

/**
 * Writes the per-user index for sessions made before it existed; run at start. Idempotent,
 * and skipped once done (a marker key), like the user word index.
 */
export async function buildUserSessionIndex(kv: Deno.Kv): Promise<number> {
  if ((await retry(() => kv.get(keys.userSessionsBuilt()))).value) return 0;
  let built = 0;
  const now = Date.now();
  for await (const e of kv.list<SessionRecord>({ prefix: keys.session("").slice(0, 1) })) {
    const s = e.value;
    if (s.expiresAt <= now) continue;
    await retry(() =>
      kv.atomic().check(e).set(
        keys.userSession(s.userId, s.id),
        { createdAt: s.createdAt, expiresAt: s.expiresAt },
        { expireIn: s.expiresAt - now },
      ).commit()
    );
    built++;
  }
  await retry(() => kv.set(keys.userSessionsBuilt(), true));
  return built;
}
