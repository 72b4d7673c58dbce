/**
 * An upload in flight when the server process is killed (SIGKILL: no clean-up runs) leaves no
 * visible attachment, and its chunks are collected by the sweep. The real server runs as a
 * child process on a KV file that this test also opens.
 */
import { equal, ok } from "node:assert/strict";
import { KvBlobStore } from "../../lib/store/blobs.ts";
import { directPair } from "../helpers/server.ts";

const root = new URL("../../", import.meta.url).pathname;

async function count(kv: Deno.Kv, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: [prefix] })) n++;
  return n;
}

Deno.test("a server killed mid-upload leaves nothing visible, and the sweep collects the chunks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-attach-crash-" });
  const kvPath = `${dir}/parley.kv`;
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "-A", "--port", String(port), "--host", "127.0.0.1", "main.ts"],
    cwd: root,
    env: { KV_PATH: kvPath, JWT_SECRET: "crash-test-secret-0123456789abcdef", LOG_LEVEL: "error" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  let kv: Deno.Kv | null = null;
  try {
    for (let i = 0; i < 200; i++) {
      try {
        const res = await fetch(`${url}/health`);
        await res.body?.cancel();
        if (res.ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const { alice, convId } = await directPair(url);
    kv = await Deno.openKv(kvPath);
    const piece = new Uint8Array(32 * 1024).fill(7);
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 2));
        c.enqueue(piece);
      },
    });
    const upload = fetch(`${url}/api/conversations/${convId}/attachments?name=big.bin`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.accessToken}` },
      body,
    }).then((r) => r.status, () => "failed");
    // Wait until the server has committed some chunks, then kill it without warning.
    for (let i = 0; i < 500 && await count(kv, "blob_chunks") < 16; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    ok(await count(kv, "blob_chunks") >= 16, "the upload got under way");
    child.kill("SIGKILL");
    await child.status;
    equal(await upload, "failed");

    equal(await count(kv, "attachments"), 0);
    equal(await count(kv, "blob_manifests"), 0);
    equal(await count(kv, "blob_gc"), 1, "the abandoned upload is recorded for collection");
    const store = new KvBlobStore(kv);
    equal(await store.sweep(), 0, "not before the upload could have ended");
    equal(await store.sweep(Date.now() + 3 * 3600_000), 1);
    equal(await count(kv, "blob_chunks"), 0);
    equal(await count(kv, "blob_gc"), 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    kv?.close();
    await Deno.remove(dir, { recursive: true });
  }
});
