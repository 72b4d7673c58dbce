/**
 * Graceful stop, in two signals.
 *
 * On Deno 2.9.6, SIGTERM makes `deno serve` close its listener and every WebSocket (1001)
 * within about 15 ms (denoland/deno#32862), before the app can finish anything. So the
 * launcher (`scripts/serve.ts`, also the container's entrypoint) turns SIGTERM into SIGUSR2
 * (SIGUSR1 would open Deno's inspector), which starts the drain here: `/ready` answers 503,
 * new upgrades are refused, new frames go unanswered, sends already being committed finish
 * and are acked (for up to DRAIN_MS), then every socket closes with 1001. The launcher sends
 * SIGTERM after DRAIN_MS, and each isolate stops its engine, closes KV and exits.
 *
 * A SIGTERM or SIGINT without a drain before it (a bare `deno serve main.ts`, Ctrl-C) stops at
 * once: sockets close with 1001 and the clients reconnect and resend what was not acked.
 * `deno serve` waits for the event loop to drain, which an open KV handle, BroadcastChannel or
 * timer never allows, so every path ends in `Deno.exit`.
 * @module
 */
import { log } from "./log.ts";
import { CLOSE } from "./protocol.ts";
import type { Runtime } from "./runtime.ts";

/** Time given to close frames to leave before the process exits. */
const CLOSE_FRAMES_MS = 200;

/**
 * Drains the runtime: stops taking new work, waits up to `drainMs` for sends being committed,
 * then closes every socket with 1001. The engine keeps running until `stop`.
 * @returns whether every accepted send was answered in time.
 */
export async function drainRuntime(rt: Runtime, drainMs: number): Promise<boolean> {
  const settled = await rt.realtime.drain.start(drainMs);
  // The last acks are queued for the next write: let them leave before the close frame.
  await new Promise((r) => setTimeout(r, 50));
  // Only the sockets: the engine keeps publishing for HTTP requests still arriving.
  for (const conn of [...rt.realtime.hub.connections()]) {
    conn.close(CLOSE.goingAway, "server restarting");
  }
  return settled;
}

export function installShutdown(rt: Runtime): void {
  let draining: Promise<unknown> | null = null;
  let stopping = false;
  const drain = () => {
    if (draining || stopping) return;
    log.info("draining", { isolate: rt.isolateId, drainMs: rt.config.drainMs });
    draining = drainRuntime(rt, rt.config.drainMs).then((settled) => {
      if (!settled) log.warn("drain ended with sends still in flight", { isolate: rt.isolateId });
    });
  };
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal, isolate: rt.isolateId, drained: draining !== null });
    const hardStop = setTimeout(() => Deno.exit(0), 4000);
    try {
      if (draining) await draining;
      await rt.close();
      await new Promise((r) => setTimeout(r, CLOSE_FRAMES_MS));
      rt.kv.close();
    } catch (err) {
      log.warn("shutdown was not clean", { error: String(err) });
    }
    clearTimeout(hardStop);
    Deno.exit(0);
  };
  const listen = (signal: Deno.Signal, fn: () => void) => {
    try {
      Deno.addSignalListener(signal, fn);
    } catch {
      // Platforms without signals (Deno Deploy, Windows) stop isolates themselves.
    }
  };
  listen("SIGUSR2", drain);
  listen("SIGINT", () => stop("SIGINT"));
  listen("SIGTERM", () => stop("SIGTERM"));
}
