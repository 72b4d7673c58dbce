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

/** Starts a session for a user. */
export async function createSession(
  kv: Deno.Kv,
  userId: string,
  ttlSec: number,
): Promise<{ session: SessionRecord; secrets: SessionSecrets }> {
  const id = crypto.randomUUID();
  const { secrets, refreshHash, cookieHash } = await freshSecrets(id);
  const now = Date.now();
  const session: SessionRecord = {
    id,
    userId,
    refreshHash,
    cookieHash,
    createdAt: now,
    expiresAt: now + ttlSec * 1000,
  };
  await retry(() => kv.set(keys.session(id), session, { expireIn: ttlSec * 1000 }));
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
    expiresAt: Date.now() + ttlSec * 1000,
  };
  const res = await retry(() =>
    kv.atomic().check(entry).set(keys.session(session.id), next, { expireIn: ttlSec * 1000 })
      .commit()
  );
  // A concurrent rotation won: this presentation used a token that is no longer current.
  if (!res.ok) return null;
  return { session: next, secrets };
}

/** Ends a session everywhere: its tokens stop working and every isolate closes its sockets. */
export async function revokeSession(
  kv: Deno.Kv,
  sessionId: string,
  reason: "logout" | "refresh_reuse" | "admin" = "logout",
): Promise<void> {
  const entry = await retry(() => kv.get<SessionRecord>(keys.session(sessionId)));
  if (!entry.value) return;
  securityEvent("session_revoked", { sessionId, userId: entry.value.userId, reason });
  await appendEvents(
    kv,
    [{ type: "revoke", sessionId, userId: entry.value.userId }],
    (op) => op.delete(keys.session(sessionId)),
  );
}
