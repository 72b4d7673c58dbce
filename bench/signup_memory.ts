/**
 * Server memory around a sign-up burst, as production runs it (`deno serve --parallel`, the
 * command scripts/serve.ts runs), on a temporary KV file on 127.0.0.1:
 *
 *   deno run -A bench/signup_memory.ts [--users 1000] [--concurrency 20] [--sockets 1000]
 *     [--settle 5] [--malloc tuned|default]
 *
 * Measures the server's RSS (the `deno serve` process and its children) idle, right after
 * `--users` sign-ups made `--concurrency` at a time, after `--settle` seconds, and after
 * `--sockets` WebSockets of those users are connected. `--malloc default` starts the server
 * without the allocator setting scripts/serve.ts gives it (`serverMallocEnv`), to compare.
 * Prints a table and one `BENCH_JSON {...}` line; it stops the server it started.
 * @module
 */
// deno-lint-ignore-file no-console
import { parseArgs } from "node:util";
import { serverMallocEnv } from "../lib/malloc.ts";
import { freePort, rssBytes } from "./proc.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    users: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "20" },
    sockets: { type: "string", default: "1000" },
    settle: { type: "string", default: "5" },
    malloc: { type: "string", default: "tuned" },
  },
});
const users = Number(values.users);
const concurrency = Number(values.concurrency);
const sockets = Math.min(users, Number(values.sockets));
const settleMs = Number(values.settle) * 1000;
const tuned = values.malloc !== "default";
const root = new URL("../", import.meta.url).pathname;

const dir = await Deno.makeTempDir({ prefix: "parley-signup-mem-" });
const port = freePort();
const url = `http://127.0.0.1:${port}`;
const env: Record<string, string> = {
  KV_PATH: `${dir}/parley.kv`,
  JWT_SECRET: crypto.randomUUID() + crypto.randomUUID(),
  LOG_LEVEL: "warn",
  REGISTER_LIMIT_PER_HOUR: "1000000",
  ...(tuned ? serverMallocEnv({}) : {}),
};
const child = new Deno.Command(Deno.execPath(), {
  args: ["serve", "--parallel", "-A", "--port", String(port), "--host", "127.0.0.1", "main.ts"],
  cwd: root,
  env,
  stdout: "null",
  stderr: "inherit",
}).spawn();

const mb = () => Math.round((rssBytes(child.pid) ?? 0) / 1048576);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const opened: WebSocket[] = [];
try {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  await sleep(1000);
  const idle = mb();
  const tokens: string[] = [];
  const t0 = performance.now();
  let next = 0;
  let peak = idle;
  const sampler = setInterval(() => peak = Math.max(peak, mb()), 200);
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < users) {
      const i = next++;
      const res = await fetch(`${url}/api/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: `mem_${i}`, password: "password123" }),
      });
      const body = await res.json();
      if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(body)}`);
      tokens[i] = body.accessToken;
    }
  }));
  clearInterval(sampler);
  const signupMs = Math.round(performance.now() - t0);
  const afterSignups = mb();
  await sleep(settleMs);
  const settled = mb();
  await Promise.all(
    tokens.slice(0, sockets).map((token) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(
          `ws://127.0.0.1:${port}/api/ws?token=${encodeURIComponent(token)}`,
        );
        opened.push(ws);
        ws.onmessage = (e) => {
          if (String(e.data).includes('"ready"')) resolve();
        };
        ws.onerror = () => reject(new Error("socket failed"));
      })
    ),
  );
  await sleep(2000);
  const withSockets = mb();
  const result = {
    malloc: tuned ? "tuned" : "default",
    users,
    concurrency,
    sockets,
    signupMs,
    rssMb: { idle, peakDuringSignups: peak, afterSignups, settled, withSockets },
  };
  console.log(
    `malloc ${result.malloc}: RSS idle ${idle} MB, peak during ${users} sign-ups ` +
      `(${concurrency} at a time, ${signupMs} ms) ${peak} MB, right after ${afterSignups} MB, ` +
      `${settleMs / 1000} s later ${settled} MB, with ${sockets} sockets ${withSockets} MB`,
  );
  console.log(`BENCH_JSON ${JSON.stringify(result)}`);
} finally {
  for (const ws of opened) ws.close();
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
