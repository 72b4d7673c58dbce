/**
 * Starts Parley on every core: `deno serve --parallel` with the address from PORT and HOST
 * (which `deno serve` itself does not read), forwarding SIGINT/SIGTERM and making sure the
 * server is gone within 5 seconds.
 * @module
 */
// deno-lint-ignore-file no-console
import { loadConfig } from "../lib/config.ts";

const config = loadConfig();
const root = new URL("../", import.meta.url).pathname;
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "serve",
    "--parallel",
    "-A",
    "--port",
    String(config.port),
    "--host",
    config.host,
    "main.ts",
  ],
  cwd: root,
  stdin: "null",
}).spawn();
console.error(
  `Parley: http://${
    config.host === "0.0.0.0" ? "localhost" : config.host
  }:${config.port}/ (KV: ${config.kvPath})`,
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
  });
}
const status = await child.status;
Deno.exit(status.code);
