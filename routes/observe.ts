/**
 * The outermost middleware: gives every request an id (`X-Request-Id`, echoed when the client
 * sent a sane one, so a proxy's id follows the request through), writes one JSON access-log
 * line per request and counts it for `/metrics` by route pattern, never by raw path (which
 * would put ids into labels and make their number unbounded).
 * @module
 */
import type { Context, Next } from "hono";
import { routePath } from "hono/route";
import { log } from "../lib/log.ts";
import { observeHttp } from "../lib/metrics.ts";
import type { Env } from "./context.ts";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The incoming request id when it is 1–128 characters of `[A-Za-z0-9._-]`, else a new one. */
export function requestIdOf(header: string | undefined): string {
  return header && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}

/** The route pattern that answered (`/api/conversations/:id`), or `unmatched`. */
function routeOf(c: Context): string {
  const path = routePath(c);
  return path === "" || path === "*" || path === "/*" ? "unmatched" : path;
}

export async function observe(c: Context<Env>, next: Next): Promise<void> {
  const t0 = performance.now();
  const requestId = requestIdOf(c.req.header("x-request-id"));
  c.set("requestId", requestId);
  await next();
  const ms = performance.now() - t0;
  try {
    c.res.headers.set("X-Request-Id", requestId);
  } catch {
    // A WebSocket upgrade's 101 response has immutable headers; its id is in the log.
  }
  const route = routeOf(c);
  const status = c.res.status;
  observeHttp(route, c.req.method, status, ms / 1000);
  log.info("request", {
    requestId,
    method: c.req.method,
    route,
    status,
    ms: Math.round(ms * 10) / 10,
    userId: c.get("principal")?.user.id,
  });
}
