/**
 * Parley's entry point for `deno serve` (one isolate per core with `--parallel`): builds the
 * runtime and the app, installs the shutdown handler, and exports `{ fetch }`.
 * Start it with `deno task start` (which reads PORT and HOST) rather than by hand.
 * @module
 */
import { loadConfig } from "./lib/config.ts";
import { log, setLogLevel } from "./lib/log.ts";
import { createRuntime } from "./lib/runtime.ts";
import { installShutdown } from "./lib/shutdown.ts";
import { openKv } from "./lib/store/kv.ts";
import { createApp } from "./routes/mod.ts";

// A rejection nothing handled is a bug: it is logged with its stack. Left alone it would end
// this isolate, and under `deno serve --parallel` the whole process and every socket with it.
addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  log.error("unhandled rejection", { error: String(e.reason), stack: e.reason?.stack });
});

const config = loadConfig();
setLogLevel(config.logLevel);
const kv = await openKv(config.kvPath);
const runtime = await createRuntime(config, kv);
installShutdown(runtime);

export default { fetch: createApp(runtime).fetch } satisfies Deno.ServeDefaultExport;
