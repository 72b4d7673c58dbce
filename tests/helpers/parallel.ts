/**
 * The real server under `deno serve --parallel` (two isolates) on a temporary KV file, for
 * tests of what must hold across isolates.
 */
import { spawnServer } from "./logsink.ts";
import { freePort, root } from "./net.ts";

/** How long the isolates get to come up: a loaded machine starts the second one late. */
const START_MS = 60_000;

/** Starts two isolates on one KV file with `env` on top of test defaults, and waits until
 * both answer. @throws when the server exits first or an isolate never answers. */
export async function startParallel(env: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "parley-parallel-" });
  const port = freePort();
  const { child, drained } = spawnServer({
    args: ["serve", "--parallel", "-A", "--port", String(port), "--host", "127.0.0.1", "main.ts"],
    cwd: root,
    env: {
      KV_PATH: `${dir}/parley.kv`,
      JWT_SECRET: "parallel-test-secret-0123456789abcdef",
      LOG_LEVEL: "error",
      DENO_JOBS: "2",
      REGISTER_LIMIT_PER_HOUR: "1000",
      ...env,
    },
  });
  let exited: Deno.CommandStatus | null = null;
  const status = child.status.then((s) => exited = s);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    const s = await status;
    await drained;
    await Deno.remove(dir, { recursive: true });
    return s;
  };
  // Each isolate listens once it is up; a new connection per probe (a kept-alive one stays
  // with the isolate that accepted it) reaches either.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const isolates = new Set<string>();
  try {
    const deadline = Date.now() + START_MS;
    while (isolates.size < 2 && !exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/health`, { client });
        isolates.add((await res.json()).isolate);
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, isolates.size ? 10 : 100));
    }
  } finally {
    client.close();
  }
  if (isolates.size < 2) {
    const why = exited
      ? `the server exited (code ${(exited as Deno.CommandStatus).code}) first`
      : `only ${isolates.size} answered in ${START_MS / 1000} s`;
    await stop();
    throw new Error(`deno serve --parallel did not start two isolates: ${why}`);
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/api/ws`,
    /** The isolate ids that answered `/health`. */
    isolates,
    /** SIGTERM (unless it already exited); resolves with how it ended. */
    stop,
  };
}
