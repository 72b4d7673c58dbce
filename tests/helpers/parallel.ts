/**
 * The real server under `deno serve --parallel` (two isolates) on a temporary KV file, for
 * tests of what must hold across isolates.
 */
import { spawnServer } from "./logsink.ts";
import { freePort, root } from "./net.ts";

/** Starts two isolates on one KV file with `env` on top of test defaults. */
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
  const url = `http://127.0.0.1:${port}`;
  // Each isolate listens once it is up; fresh connections (no keep-alive) reach either.
  const isolates = new Set<string>();
  for (let i = 0; i < 300 && isolates.size < 2; i++) {
    try {
      const res = await fetch(`${url}/health`, { headers: { connection: "close" } });
      isolates.add((await res.json()).isolate);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/api/ws`,
    async stop() {
      child.kill("SIGTERM");
      const status = await child.status;
      await drained;
      await Deno.remove(dir, { recursive: true });
      return status;
    },
  };
}
