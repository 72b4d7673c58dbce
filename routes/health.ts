/**
 * Liveness and readiness for operators and load balancers.
 * @module
 */
import { Hono } from "hono";
import type { Runtime } from "../lib/runtime.ts";

export function healthRoutes(rt: Runtime) {
  return new Hono()
    .get("/health", (c) => c.json({ status: "ok", isolate: rt.isolateId }))
    .get("/ready", async (c) => {
      // From the start of a shutdown on, never 200 again: load balancers stop sending here.
      if (rt.realtime.drain.draining) {
        return c.json({ status: "draining", isolate: rt.isolateId }, 503);
      }
      try {
        await rt.kv.get(["ready-probe"]);
        return c.json({ status: "ready", isolate: rt.isolateId });
      } catch {
        return c.json({
          status: "unavailable",
          error: { code: "internal", message: "The store is not reachable." },
        }, 503);
      }
    });
}
