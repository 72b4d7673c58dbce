import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { withKv } from "./testing.ts";
import { BlobTooLarge, CHUNK_BYTES, KvBlobStore } from "./blobs.ts";

/** Deterministic bytes whose every position differs from its neighbours'. */
function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8) * 7) & 0xff;
  return b;
}

/** A stream of `bytes` in pieces of awkward sizes, as a network delivers them. */
function streamOf(bytes: Uint8Array, piece = 10_007): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + piece));
      at += piece;
    },
  });
}

async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

async function countKeys(kv: Deno.Kv, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: [prefix] })) n++;
  return n;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

Deno.test("a blob round-trips byte-exact at sizes around the chunk boundary, with its sha256", async () => {
  await withKv(async (kv) => {
    const store = new KvBlobStore(kv);
    for (const size of [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 5 * 1024 * 1024]) {
      const bytes = pattern(size);
      const staged = await store.put(streamOf(bytes), { maxBytes: 10 * 1024 * 1024 });
      equal(await store.stat(staged.manifest.id), null, "invisible before commit");
      ok((await staged.commit(kv.atomic()).commit()).ok);
      const manifest = (await store.stat(staged.manifest.id))!;
      deepStrictEqual([manifest.size, manifest.sha256], [size, sha(bytes)]);
      deepStrictEqual(await collect(store.read(manifest)), bytes, `size ${size}`);
    }
  });
});

Deno.test("read() serves ranges that start and end on and around chunk boundaries", async () => {
  await withKv(async (kv) => {
    const store = new KvBlobStore(kv);
    const bytes = pattern(3 * CHUNK_BYTES + 100);
    const staged = await store.put(streamOf(bytes, 65_000), { maxBytes: 1 << 30 });
    await staged.commit(kv.atomic()).commit();
    const m = staged.manifest;
    const C = CHUNK_BYTES;
    const ranges: [number, number][] = [
      [0, 0],
      [0, C - 1],
      [C - 1, C],
      [C, C],
      [C, 2 * C - 1],
      [C - 1, 2 * C + 1],
      [2 * C + 5, 3 * C + 99],
      [3 * C, 3 * C + 99],
      [3 * C + 99, 3 * C + 99],
    ];
    for (const [s, e] of ranges) {
      deepStrictEqual(await collect(store.read(m, s, e)), bytes.slice(s, e + 1), `${s}-${e}`);
    }
  });
});

Deno.test("a body over maxBytes is refused mid-stream and leaves no key behind", async () => {
  await withKv(async (kv) => {
    const store = new KvBlobStore(kv);
    await rejects(store.put(streamOf(pattern(1_000_001)), { maxBytes: 1_000_000 }), BlobTooLarge);
    equal(await countKeys(kv, "blob_chunks"), 0);
    equal(await countKeys(kv, "blob_gc"), 0);
    equal(await countKeys(kv, "blob_manifests"), 0);
  });
});

Deno.test("accept() throwing stops the upload after the bytes it accepted, and discards them", async () => {
  await withKv(async (kv) => {
    const store = new KvBlobStore(kv);
    const seen: number[] = [];
    const quota = 600_000;
    let used = 0;
    await rejects(
      store.put(streamOf(pattern(2_000_000)), {
        maxBytes: 1 << 30,
        accept: (n) => {
          seen.push(n);
          if (used + n > quota) throw new Error("over quota");
          used += n;
        },
      }),
      /over quota/,
    );
    deepStrictEqual(seen, [8 * CHUNK_BYTES, 8 * CHUNK_BYTES]);
    equal(await countKeys(kv, "blob_chunks"), 0);
  });
});

Deno.test("an abandoned upload stays invisible and its chunks are swept once due", async () => {
  await withKv(async (kv) => {
    const store = new KvBlobStore(kv);
    // The uploader "dies" after put: nothing commits the manifest.
    const staged = await store.put(streamOf(pattern(300_000)), { maxBytes: 1 << 30 });
    equal(await countKeys(kv, "blob_chunks"), 5);
    equal(await store.sweep(), 0, "not yet due: the upload may still be running");
    equal(await countKeys(kv, "blob_chunks"), 5);
    equal(await store.sweep(Date.now() + 3 * 3600_000), 1);
    equal(await countKeys(kv, "blob_chunks"), 0);
    equal(await countKeys(kv, "blob_gc"), 0);
    // Too late now: the commit that would make it visible fails its check.
    equal((await staged.commit(kv.atomic()).commit()).ok, false);
    equal(await store.stat(staged.manifest.id), null);
  });
});

Deno.test("a stream that errors half-way leaves nothing visible and its chunks go at once", async () => {
  await withKv(async (kv) => {
    const store = new KvBlobStore(kv);
    let sent = 0;
    const broken = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 700_000) return c.error(new Error("connection reset"));
        c.enqueue(pattern(50_000));
        sent += 50_000;
      },
    });
    await rejects(store.put(broken, { maxBytes: 1 << 30 }), /connection reset/);
    equal(await countKeys(kv, "blob_chunks"), 0);
    equal(await countKeys(kv, "blob_manifests"), 0);
  });
});

Deno.test("remove() hides a blob in the caller's commit and the sweep then takes its chunks", async () => {
  await withKv(async (kv) => {
    const store = new KvBlobStore(kv);
    const keep = await store.put(streamOf(pattern(100_000)), { maxBytes: 1 << 30 });
    const gone = await store.put(streamOf(pattern(200_000)), { maxBytes: 1 << 30 });
    await gone.commit(keep.commit(kv.atomic())).commit();
    await store.remove(kv.atomic(), gone.manifest.id).commit();
    equal(await store.stat(gone.manifest.id), null);
    equal(await store.sweep(), 1);
    equal(await countKeys(kv, "blob_chunks"), 2, "only the kept blob's two chunks remain");
    const m = (await store.stat(keep.manifest.id))!;
    deepStrictEqual(await collect(store.read(m)), pattern(100_000));
  });
});
