/**
 * The server for the storm probe: the real app (`createApp` over `createRuntime`, as main.ts
 * builds it) on a KV file, plus one route outside the app, `GET /__probe/heap`, that runs two
 * full garbage collections and answers `Deno.memoryUsage()`: RSS alone also counts garbage not
 * yet collected, which would hide a leak or fake one. Run with `--v8-flags=--expose-gc`.
 *
 *   deno run -A --v8-flags=--expose-gc tests/adversarial/storm_server.ts <port>
 */
import { loadConfig } from "../../lib/config.ts";
import { setLogLevel } from "../../lib/log.ts";
import { createRuntime } from "../../lib/runtime.ts";
import { installShutdown } from "../../lib/shutdown.ts";
import { openKv } from "../../lib/store/kv.ts";
import { createApp } from "../../routes/mod.ts";

const config = loadConfig();
setLogLevel(config.logLevel);
const kv = await openKv(config.kvPath);
const runtime = await createRuntime(config, kv);
installShutdown(runtime);
const app = createApp(runtime);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.args[0]), onListen: () => {} },
  (req, info) => {
    if (new URL(req.url).pathname === "/__probe/heap") {
      gc();
      gc();
      return Response.json(Deno.memoryUsage());
    }
    return app.fetch(req, info);
  },
);
