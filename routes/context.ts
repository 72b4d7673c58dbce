/**
 * What every route module gets: the runtime's services, and helpers for the HTTP edge
 * (credentials from headers or cookies, JSON bodies, the session cookie).
 * @module
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Grant, Principal } from "../lib/auth/service.ts";
import { clientAddress } from "../lib/net/address.ts";
import { AppError } from "../lib/errors.ts";
import type { Runtime } from "../lib/runtime.ts";

export type Env = {
  Bindings: { remoteAddr?: { hostname?: string } };
  Variables: { principal: Principal; requestId: string };
};

export const SESSION_COOKIE = "parley_session";

/** The bearer token of a request, from the Authorization header. */
export function bearerToken(c: Context): string | null {
  const header = c.req.header("authorization") ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(header);
  return m ? m[1].trim() : null;
}

/**
 * Finds who is calling: bearer token first (or `?token=` where allowed), then the cookie. A
 * request with any other Authorization header is not signed in: the cookie is used only when
 * the request carries no Authorization at all (see the CSRF rule in routes/mod.ts).
 */
export async function principalOf(
  rt: Runtime,
  c: Context,
  opts: { allowQueryToken?: boolean } = {},
): Promise<Principal | null> {
  const token = bearerToken(c) ?? (opts.allowQueryToken ? c.req.query("token") : null);
  if (token) return await rt.auth.fromAccessToken(token);
  if (c.req.header("authorization") !== undefined) return null;
  const cookie = getCookie(c, SESSION_COOKIE);
  const principal = cookie ? await rt.auth.fromCookie(cookie) : null;
  // The session slid forward: so does the cookie's own lifetime in the browser.
  if (cookie && principal?.renewedForSec) renewCookie(c, cookie, principal.renewedForSec);
  return principal;
}

function renewCookie(c: Context, token: string, maxAgeSec: number): void {
  const https = new URL(c.req.url).protocol === "https:" ||
    c.req.header("x-forwarded-proto") === "https";
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: https,
    path: "/",
    maxAge: maxAgeSec,
  });
}

/**
 * The client's address as the throttles count it (lib/net/address.ts: IPv6 by /64; behind
 * TRUST_PROXY_HOPS proxies, from X-Forwarded-For).
 */
export function clientAddr(c: Context<Env>, trustProxyHops = 0): string {
  return clientAddress(
    c.env?.remoteAddr?.hostname,
    c.req.header("x-forwarded-for"),
    trustProxyHops,
  );
}

/** The client's address as `clientAddr` derives it, before grouping IPv6 by /64. */
export function clientAddrRaw(c: Context<Env>, trustProxyHops = 0): string {
  let addr = c.env?.remoteAddr?.hostname ?? "unknown";
  if (trustProxyHops > 0) {
    const hops = (c.req.header("x-forwarded-for") ?? "").split(",").map((s) => s.trim())
      .filter(Boolean);
    addr = hops[hops.length - trustProxyHops] ?? hops[0] ?? addr;
  }
  return addr;
}

/** Sets the browser session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS. */
export function setSessionCookie(c: Context, grant: Grant, maxAgeSec: number): void {
  const https = new URL(c.req.url).protocol === "https:" ||
    c.req.header("x-forwarded-proto") === "https";
  setCookie(c, SESSION_COOKIE, grant.secrets.cookieToken, {
    httpOnly: true,
    sameSite: "Lax",
    secure: https,
    path: "/",
    maxAge: maxAgeSec,
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

export function sessionCookie(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** Reads a JSON body; anything that is not a JSON object is `invalid_input`. */
export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError("invalid_input", "The request body must be a JSON object.");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new AppError("invalid_input", "The request body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}

/** Middleware for API routes that need a signed-in caller. */
export function requireAuth(rt: Runtime) {
  return async (c: Context<Env>, next: () => Promise<void>) => {
    const principal = await principalOf(rt, c);
    if (!principal) {
      throw new AppError(
        "unauthorized",
        "Please sign in: your credentials are missing or expired.",
      );
    }
    c.set("principal", principal);
    await next();
  };
}
