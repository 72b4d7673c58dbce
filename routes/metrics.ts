/**
 * `GET /metrics` in the Prometheus text format, covering every isolate (see lib/metrics.ts).
 * Open to `Authorization: Bearer <METRICS_TOKEN>`; with no token configured, only to loopback
 * peers that came through no proxy. Anyone else gets a plain 404, as if nothing were here.
 * @module
 */
import { type Context, Hono } from "hono";
import { sameHash } from "../lib/store/sessions.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../lib/metrics.ts";
import type { Runtime } from "../lib/runtime.ts";
import { bearerToken, clientAddrRaw, type Env } from "./context.ts";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Whether this request may read the metrics. */
export function metricsAllowed(c: Context<Env>, rt: Runtime): boolean {
  const token = rt.config.metricsToken;
  if (token) {
    const given = bearerToken(c);
    // Equal lengths first, then a constant-time comparison, so timing tells nothing.
    return given !== null && given.length === token.length && sameHash(given, token);
  }
  const peer = c.env?.remoteAddr?.hostname ?? "";
  if (!LOOPBACK.test(peer)) return false;
  // A proxy on this machine would make every outside request look local: anything that went
  // through one is not loopback, unless TRUST_PROXY_HOPS derives a loopback client from it.
  const forwarded = c.req.header("forwarded") !== undefined ||
    c.req.header("x-forwarded-for") !== undefined;
  if (!forwarded) return true;
  if (rt.config.trustProxyHops === 0 || c.req.header("forwarded") !== undefined) return false;
  return LOOPBACK.test(clientAddrRaw(c, rt.config.trustProxyHops));
}

export function metricsRoutes(rt: Runtime) {
  return new Hono<Env>().get("/metrics", async (c) => {
    if (!metricsAllowed(c, rt)) return c.text("404 Not Found", 404);
    const text = await renderMetrics(rt.kv, rt.isolateId, rt.gauges);
    return c.body(text, 200, { "Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store" });
  });
}
