/**
 * Retained memory per idle connection, measured inside the server process after full garbage
 * collections, for Parley (the real app over an in-memory KV) and for a raw Deno WebSocket
 * server, in one run. It complements `--scenario idle`, whose RSS delta also counts garbage the
 * server has not collected yet.
 *
 *   deno run -A --v8-flags=--expose-gc bench/idle_heap.ts [--conns 2000]
 *
 * Each target runs in its own child process (this file with `--serve`); clients run in another
 * process (`bench/idle_heap_client.ts`), all on 127.0.0.1, and everything stops by itself.
 * @module
 */
// deno-lint-ignore-file no-console
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    conns: { type: "string", default: "2000" },
    serve: { type: "string" },
  },
});
const N = Number(values.conns);
const here = new URL(".", import.meta.url).pathname;

type Gc = { gc?: () => void };
function snapshot() {
  const gc = (globalThis as Gc).gc;
  if (!gc) throw new Error("run with --v8-flags=--expose-gc");
  gc();
  gc();
  return Deno.memoryUsage();
}

async function serveParley(): Promise<
  { url: string; tokens: string[]; count: () => number; stop: () => Promise<void> }
> {
  const { startServer } = await import("../tests/helpers/server.ts");
  const { createUser } = await import("../lib/store/users.ts");
  const { createSession } = await import("../lib/store/sessions.ts");
  const { TokenSigner } = await import("../lib/auth/tokens.ts");
  const secret = crypto.randomUUID() + crypto.randomUUID();
  const srv = await startServer({ JWT_SECRET: secret });
  const signer = new TokenSigner(secret, 3600);
  const tokens: string[] = [];
  for (let i = 0; i < N; i++) {
    const u = await createUser(srv.kv, { username: `idle_${i}`, passwordHash: "unused" });
    const { session } = await createSession(srv.kv, u.id, 3600);
    tokens.push(await signer.sign({ userId: u.id, sessionId: session.id }));
  }
  return { url: srv.wsUrl, tokens, count: () => srv.rt.realtime.hub.size, stop: () => srv.close() };
}

function serveBaseline() {
  const open = new Set<WebSocket>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      open.add(socket);
      socket.send(JSON.stringify({ type: "ready" }));
    };
    socket.onmessage = (e) => {
      for (const s of open) s.send(e.data);
    };
    socket.onclose = () => open.delete(socket);
    return response;
  });
  return Promise.resolve({
    url: `ws://127.0.0.1:${server.addr.port}/api/ws`,
    tokens: Array.from({ length: N }, (_, i) => `t${i}`),
    count: () => open.size,
    stop: () => server.shutdown(),
  });
}

async function measure(target: string): Promise<void> {
  const srv = target === "parley" ? await serveParley() : await serveBaseline();
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify({ url: srv.url, tokens: srv.tokens }));
  const before = snapshot();
  const client = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${here}idle_heap_client.ts`, file],
    stdout: "null",
  }).spawn();
  const deadline = Date.now() + 60_000;
  while (srv.count() < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  const after = snapshot();
  const per = (a: number, b: number) => Math.round(((a - b) / N / 1024) * 100) / 100;
  console.log(JSON.stringify({
    target,
    conns: srv.count(),
    rssKbPerConn: per(after.rss, before.rss),
    heapKbPerConn: per(after.heapUsed, before.heapUsed),
  }));
  client.kill("SIGTERM");
  await client.status;
  await srv.stop();
  await Deno.remove(file);
}

if (values.serve) {
  await measure(values.serve);
  Deno.exit(0);
}

const results: Record<string, { rssKbPerConn: number; heapKbPerConn: number; conns: number }> = {};
for (const target of ["baseline", "parley"]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      import.meta.filename!,
      "--serve",
      target,
      "--conns",
      String(N),
    ],
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop()!;
  results[target] = JSON.parse(line);
}
const b = results.baseline, p = results.parley;
console.log(`idle connections: ${N} (after gc, inside the server process)`);
console.log(`target    conns  RSS KB/conn  JS heap KB/conn`);
for (const [t, r] of Object.entries(results)) {
  console.log(
    `${t.padEnd(8)}  ${String(r.conns).padStart(5)}  ${String(r.rssKbPerConn).padStart(11)}  ${
      String(r.heapKbPerConn).padStart(15)
    }`,
  );
}
console.log(
  `parley/baseline RSS ${(p.rssKbPerConn / b.rssKbPerConn).toFixed(2)}×, heap ${
    (p.heapKbPerConn / b.heapKbPerConn).toFixed(2)
  }×`,
);
console.log("BENCH_JSON " + JSON.stringify({ scenario: "idle_heap", conns: N, results }));
