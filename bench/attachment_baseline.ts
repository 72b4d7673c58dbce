/**
 * The attachment scenario's baseline: a plain `Deno.serve` that streams an upload's bytes into
 * a file and streams a file back, with no auth, no KV, no hashing and no type checks: the floor
 * the same machine sets for moving bytes through HTTP.
 *
 * - `POST /upload` → 201 `{id}` (the body written to a temp file)
 * - `GET /file/:id` → 200 the bytes
 * - `GET /health` → 200
 *
 * Usage: `deno run -A bench/attachment_baseline.ts PORT --exit-on-stdin-eof`; binds 127.0.0.1.
 * @module
 */
const port = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 8002);
const dir = await Deno.makeTempDir({ prefix: "parley-bench-files-" });
let next = 0;

const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/health") return new Response("ok");
  if (req.method === "POST" && url.pathname === "/upload") {
    const id = String(++next);
    const file = await Deno.open(`${dir}/${id}`, { write: true, create: true, truncate: true });
    await (req.body ?? new Blob([]).stream()).pipeTo(file.writable);
    return Response.json({ id }, { status: 201 });
  }
  const m = /^\/file\/(\d+)$/.exec(url.pathname);
  if (req.method === "GET" && m) {
    try {
      const file = await Deno.open(`${dir}/${m[1]}`);
      return new Response(file.readable, {
        headers: { "content-type": "application/octet-stream" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  }
  return new Response("not found", { status: 404 });
});

async function shutdown() {
  await server.shutdown();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  Deno.exit(0);
}
if (Deno.args.includes("--exit-on-stdin-eof")) {
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* until EOF */ }
    await shutdown();
  })();
}
Deno.addSignalListener("SIGTERM", shutdown);
