/**
 * Starting the servers under test as subprocesses on a free 127.0.0.1 port, pinned to core 0,
 * and the small HTTP client the set-up uses against Parley's real API.
 * @module
 */
import { serverMallocEnv } from "../lib/malloc.ts";
import { freePort, type Owned, spawn, stop } from "./proc.ts";
import type { TargetName } from "./options.ts";

export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

export interface Server {
  name: TargetName;
  proc: Owned;
  port: number;
  http: string;
  ws: string;
}

async function waitHealthy(proc: Owned, http: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.done) {
      throw new Error(`${proc.name} exited during start-up:\n${proc.tail().slice(-2000)}`);
    }
    try {
      const res = await fetch(`${http}/health`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.name} did not answer /health within ${timeoutMs} ms:\n${proc.tail()}`);
}

/** Starts bench/baseline_server.ts; it exits by itself when this process closes its stdin. */
export async function startBaseline(core: number | undefined): Promise<Server> {
  const port = freePort();
  const proc = spawn(
    "baseline",
    Deno.execPath(),
    ["run", "-A", `${ROOT}/bench/baseline_server.ts`, String(port), "--exit-on-stdin-eof"],
    { core, cwd: ROOT, pipeStdin: true },
  );
  const http = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(proc, http, 30_000);
  } catch (err) {
    await stop(proc);
    throw err;
  }
  return { name: "baseline", proc, port, http, ws: `ws://127.0.0.1:${port}/api/ws` };
}

/** Starts Parley with `deno serve` on an already seeded KV file. */
export async function startParley(
  core: number | undefined,
  kvPath: string,
  jwtSecret: string,
  extra: { parallel?: boolean; flags?: string[]; port?: number } = {},
): Promise<Server> {
  // A restart (bench/population.ts) comes back on the port its clients know.
  const port = extra.port ?? freePort();
  const proc = spawn(
    "parley",
    Deno.execPath(),
    [
      "serve",
      "--unstable-kv",
      "-A",
      ...(extra.parallel ? ["--parallel"] : []),
      ...(extra.flags ?? []),
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "main.ts",
    ],
    {
      core,
      cwd: ROOT,
      // As scripts/serve.ts starts it in production (lib/malloc.ts).
      env: {
        KV_PATH: kvPath,
        JWT_SECRET: jwtSecret,
        LOG_LEVEL: "warn",
        ...serverMallocEnv(Deno.env.toObject()),
      },
    },
  );
  const http = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(proc, http, 60_000);
  } catch (err) {
    await stop(proc);
    throw err;
  }
  return { name: "parley", proc, port, http, ws: `ws://127.0.0.1:${port}/api/ws` };
}

/** Calls Parley's JSON API; throws with the status and error code on failure. */
export async function api<T>(
  http: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${http}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}
