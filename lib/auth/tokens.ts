/**
 * Signed, short-lived access tokens (HS256 JWT via jose). Only HS256 is accepted, so `alg:
 * none` and tokens signed for another algorithm are refused. A valid signature is not enough:
 * `AuthService.fromAccessToken` (auth/service.ts) also checks that the session still exists.
 * @module
 */
import { jwtVerify, SignJWT } from "jose";
import { storedJwtSecret } from "../store/secrets.ts";

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

/** Holds the signing key; one per isolate, all agreeing on the secret. */
export class TokenSigner {
  #key: Uint8Array;
  readonly ttlSec: number;

  constructor(secret: string, ttlSec: number) {
    this.#key = new TextEncoder().encode(secret);
    this.ttlSec = ttlSec;
  }

  /** Signs an access token for a session. */
  async sign(claims: AccessClaims): Promise<string> {
    return await new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.userId)
      .setIssuedAt()
      .setIssuer("parley")
      .setExpirationTime(`${this.ttlSec}s`)
      .sign(this.#key);
  }

  /** Verifies signature, algorithm, issuer and expiry; null for any invalid token. */
  async verify(token: string): Promise<AccessClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ["HS256"],
        issuer: "parley",
      });
      if (typeof payload.sub !== "string" || typeof payload.sid !== "string") return null;
      return { userId: payload.sub, sessionId: payload.sid };
    } catch {
      return null;
    }
  }
}

/**
 * The signing secret: JWT_SECRET when configured, else a strong random secret generated once
 * and kept in KV, so every isolate and every restart agrees without a hard-coded default.
 */
export async function resolveSecret(kv: Deno.Kv, configured: string | null): Promise<string> {
  if (configured) return configured;
  return await storedJwtSecret(kv, () => {
    const bytes = crypto.getRandomValues(new Uint8Array(48));
    return btoa(String.fromCharCode(...bytes));
  });
}
