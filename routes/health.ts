/**
 * Liveness and readiness for operators and load balancers.
 * @module
 */
import { Hono } from "hono";
import { AppError, errorBody } from "../lib/errors.ts";
import type { Runtime } from "../lib/runtime.ts";
import { probe } from "../lib/store/kv.ts";

export function healthRoutes(rt: Runtime) {
  return new Hono()
    .get("/health", (c) => c.json({ status: "ok", isolate: rt.isolateId }))
    .get("/ready", async (c) => {
      // From the start of a shutdown on, never 200 again: load balancers stop sending here.
      if (rt.realtime.drain.draining) {
        return c.json({ status: "draining", isolate: rt.isolateId }, 503);
      }
      try {
        await probe(rt.kv);
        return c.json({ status: "ready", isolate: rt.isolateId });
      } catch {
        return c.json({
          status: "unavailable",
          error: errorBody(new AppError("internal", "The store is not reachable.")),
        }, 503);
      }
    });
}
