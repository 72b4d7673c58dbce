/**
 * `GET /api/ws`: authenticates before upgrading, refuses foreign origins, then hands the
 * socket to the realtime engine.
 * @module
 */
import { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import { log, securityEvent } from "../lib/log.ts";
import { handshakeProblem } from "../lib/net/upgrade.ts";
import { serveSocket } from "../lib/realtime/socket.ts";
import type { Runtime } from "../lib/runtime.ts";
import { clientAddr, type Env, principalOf } from "./context.ts";

export function wsRoutes(rt: Runtime) {
  return new Hono<Env>().get("/", async (c) => {
    const origin = c.req.header("origin");
    if (
      origin && origin !== new URL(c.req.url).origin && !rt.config.allowedOrigins.includes(origin)
    ) {
      securityEvent("origin_refused", { origin, requestId: c.get("requestId") });
      throw new AppError("forbidden", "This origin may not open a Parley connection.");
    }
    if (rt.realtime.drain.draining) {
      throw new AppError("unavailable", "The server is restarting. Connect again in a moment.", {
        retryAfterMs: 1000,
      });
    }
    const principal = await principalOf(rt, c, { allowQueryToken: true });
    if (!principal) throw new AppError("unauthorized", "Please sign in before connecting.");
    c.set("principal", principal); // for the access log
    const problem = handshakeProblem(c.req.raw.headers);
    if (problem) {
      log.debug("websocket handshake refused", { reason: problem.message });
      const body = { error: { code: "invalid_input", message: problem.message } };
      return c.json(body, problem.status, problem.headers);
    }
    // idleTimeout 0: Deno's own 30 s ping timeout would close with 1001; the contract's
    // 60 s silence rule (close 4002) is enforced by the engine instead.
    // Read before upgrading: the request's connection info is gone after.
    const addr = clientAddr(c, rt.config.trustProxyHops);
    // A connecting socket is the session in use: `lastUsedTs` and its sliding expiry.
    await rt.auth.touch(principal.sessionId);
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 0 });
    serveSocket(
      socket,
      {
        userId: principal.user.id,
        sessionId: principal.sessionId,
        addr,
      },
      rt.realtime,
      rt.chat,
    );
    return response;
  });
}
