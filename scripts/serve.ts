/**
 * Starts Parley on every core: `deno serve --parallel` with the address from PORT and HOST
 * (which `deno serve` itself does not read). Also the container's entrypoint.
 *
 * Stopping: SIGTERM (or a first SIGINT) becomes SIGUSR2 for the server, which drains (see
 * `lib/shutdown.ts`: `deno serve` would otherwise drop the listener and every socket within
 * milliseconds of a SIGTERM); after DRAIN_MS it gets SIGTERM and exits; whatever is left after
 * 5 seconds is killed. A second SIGINT skips the drain.
 * @module
 */
// deno-lint-ignore-file no-console
import { loadConfig } from "../lib/config.ts";
import { serverMallocEnv } from "../lib/malloc.ts";

const config = loadConfig();
const root = new URL("../", import.meta.url).pathname;
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "serve",
    // Without it `deno serve` prints its own "Listening on http://0.0.0.0:…" line beside ours:
    // the address twice, once as a bind address nobody can open in a browser.
    "--quiet",
    "--parallel",
    "-A",
    "--port",
    String(config.port),
    "--host",
    config.host,
    "main.ts",
  ],
  cwd: root,
  // Memory of password hashes goes back to the system after a sign-up burst (lib/malloc.ts).
  env: serverMallocEnv(Deno.env.toObject()),
  stdin: "null",
}).spawn();
console.error(
  `Parley: http://${
    config.host === "0.0.0.0" ? "localhost" : config.host
  }:${config.port}/ (KV: ${config.kvPath})`,
);

const kill = (signal: Deno.Signal) => {
  try {
    child.kill(signal);
  } catch { /* already gone */ }
};
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    if (stopping) return kill("SIGTERM");
    stopping = true;
    kill("SIGUSR2");
    // Close frames need a moment to leave after the drain closes the sockets.
    setTimeout(() => kill("SIGTERM"), config.drainMs + 300);
    setTimeout(() => kill("SIGKILL"), 5000);
  });
}
const status = await child.status;
Deno.exit(status.code);
