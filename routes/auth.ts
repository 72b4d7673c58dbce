/**
 * The JSON account API: register, login, refresh, logout, me.
 * @module
 */
import { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import type { Runtime } from "../lib/runtime.ts";
import { LoginInput, parse, RefreshInput, RegisterInput } from "../lib/validate.ts";
import {
  clearSessionCookie,
  clientAddr,
  type Env,
  jsonBody,
  requireAuth,
  sessionCookie,
  setSessionCookie,
} from "./context.ts";
import type { Grant } from "../lib/auth/service.ts";

function tokens(grant: Grant) {
  return {
    accessToken: grant.accessToken,
    expiresIn: grant.expiresIn,
    refreshToken: grant.secrets.refreshToken,
  };
}

export function authRoutes(rt: Runtime) {
  const ttl = rt.config.sessionTtlSec;
  return new Hono<Env>()
    .post("/register", async (c) => {
      const input = parse(RegisterInput, await jsonBody(c));
      const grant = await rt.auth.register(
        input,
        clientAddr(c, rt.config.trustProxyHops),
        c.req.header("user-agent"),
      );
      setSessionCookie(c, grant, ttl);
      return c.json({ user: grant.user, ...tokens(grant) }, 201);
    })
    .post("/login", async (c) => {
      const input = parse(LoginInput, await jsonBody(c));
      const grant = await rt.auth.login(
        input,
        clientAddr(c, rt.config.trustProxyHops),
        c.req.header("user-agent"),
      );
      setSessionCookie(c, grant, ttl);
      return c.json({ user: grant.user, ...tokens(grant) });
    })
    .post("/refresh", async (c) => {
      const hasBody = (c.req.header("content-length") ?? "0") !== "0" ||
        c.req.header("transfer-encoding");
      const input = hasBody ? parse(RefreshInput, await jsonBody(c)) : {};
      const cookie = sessionCookie(c);
      const grant = input.refreshToken
        ? await rt.auth.refresh(input.refreshToken, "refresh")
        : cookie
        ? await rt.auth.refresh(cookie, "cookie")
        : null;
      if (!grant) throw new AppError("unauthorized", "A refresh token is required.");
      setSessionCookie(c, grant, ttl);
      return c.json(tokens(grant));
    })
    .post("/logout", requireAuth(rt), async (c) => {
      await rt.auth.logout(c.get("principal").sessionId);
      clearSessionCookie(c);
      return c.body(null, 204);
    });
}
