/**
 * Login latency: the real server (`deno serve`, one isolate, a temporary KV file) and real HTTP
 * logins, one at a time and then `--concurrency` at once, so the cost of the password hash's
 * parameters (and of the bound on concurrent hashes) can be read in milliseconds.
 *
 *   deno run -A bench/login_latency.ts [--sequential 30] [--concurrency 16] [--rounds 3]
 *
 * Prints a table and one `BENCH_JSON {...}` line. It stops the server it started.
 * @module
 */
// deno-lint-ignore-file no-console
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sequential: { type: "string", default: "30" },
    concurrency: { type: "string", default: "16" },
    rounds: { type: "string", default: "3" },
  },
});
const sequential = Number(values.sequential);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const root = new URL("../", import.meta.url).pathname;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(pct(s, 0.5)), p95: r(pct(s, 0.95)), max: r(s[s.length - 1]) };
}

const dir = await Deno.makeTempDir({ prefix: "parley-login-bench-" });
const port = freePort();
const url = `http://127.0.0.1:${port}`;
const child = new Deno.Command(Deno.execPath(), {
  args: ["serve", "-A", "--port", String(port), "--host", "127.0.0.1", "main.ts"],
  cwd: root,
  env: {
    KV_PATH: `${dir}/parley.kv`,
    JWT_SECRET: crypto.randomUUID() + crypto.randomUUID(),
    LOG_LEVEL: "warn",
    REGISTER_LIMIT_PER_HOUR: "100000",
  },
  stdout: "null",
  stderr: "inherit",
}).spawn();

async function post(path: string, body: unknown): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.body?.cancel();
  if (res.status >= 300) throw new Error(`${path}: ${res.status}`);
  return performance.now() - t0;
}

try {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  const users = Array.from({ length: concurrency }, (_, i) => `bench_login_${i}`);
  for (const username of users) {
    await post("/api/auth/register", { username, password: "password123" });
  }
  // Warm-up: the first hashes pay for compilation and the thread pool.
  for (let i = 0; i < 3; i++) {
    await post("/api/auth/login", { username: users[0], password: "password123" });
  }

  const seq: number[] = [];
  for (let i = 0; i < sequential; i++) {
    seq.push(
      await post("/api/auth/login", { username: users[i % users.length], password: "password123" }),
    );
  }
  const par: number[] = [];
  const walls: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    par.push(
      ...await Promise.all(
        users.map((username) => post("/api/auth/login", { username, password: "password123" })),
      ),
    );
    walls.push(performance.now() - t0);
  }
  const result = {
    sequential: summary(seq),
    concurrent: { ...summary(par), concurrency, wallMsPerRound: summary(walls).p50 },
  };
  console.log(
    `login, one at a time     n=${result.sequential.n} p50=${result.sequential.p50} ms p95=${result.sequential.p95} ms max=${result.sequential.max} ms`,
  );
  console.log(
    `login, ${concurrency} at once        n=${result.concurrent.n} p50=${result.concurrent.p50} ms p95=${result.concurrent.p95} ms max=${result.concurrent.max} ms, round ${result.concurrent.wallMsPerRound} ms`,
  );
  console.log(`BENCH_JSON ${JSON.stringify(result)}`);
} finally {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 5000);
  await child.status;
  clearTimeout(timer);
  await Deno.remove(dir, { recursive: true });
}
