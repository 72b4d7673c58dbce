/**
 * Graceful stop. `deno serve` waits for the event loop to drain on SIGTERM, which an open KV
 * handle, BroadcastChannel or timer never allows, so each isolate handles the signal itself:
 * close sockets with 1001 (clients reconnect elsewhere), close KV, and exit.
 * @module
 */
import { log } from "./log.ts";
import type { Runtime } from "./runtime.ts";

/** Time given to close frames to leave before the process exits. */
const DRAIN_MS = 300;

export function installShutdown(rt: Runtime): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal, isolate: rt.isolateId });
    const hardStop = setTimeout(() => Deno.exit(0), 4000);
    try {
      await rt.close();
      await new Promise((r) => setTimeout(r, DRAIN_MS));
      rt.kv.close();
    } catch (err) {
      log.warn("shutdown was not clean", { error: String(err) });
    }
    clearTimeout(hardStop);
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => stop(signal));
    } catch {
      // Platforms without signals (Deno Deploy, Windows for SIGTERM) stop isolates themselves.
    }
  }
}
