import { equal, rejects } from "node:assert/strict";
import { BlobTooLarge, CHUNK_BYTES, KvBlobStore } from "./blobs.ts";
import { keys } from "./keys.ts";
import { readBlobBytes, recountBlobBytes } from "./metrics.ts";
import { withKv } from "./testing.ts";

function streamOf(n: number, piece = 10_007): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= n) return c.close();
      const len = Math.min(piece, n - at);
      c.enqueue(new Uint8Array(len).fill(at & 0xff));
      at += len;
    },
  });
}

Deno.test("the blob byte counter follows chunks in and out: commit, refusal, removal, sweep", async () => {
  await withKv(async (kv) => {
    const store = new KvBlobStore(kv);
    equal(await readBlobBytes(kv), 0, "an empty store holds nothing");

    const size = 3 * CHUNK_BYTES + 123;
    const a = await store.put(streamOf(size), { maxBytes: 1 << 30 });
    equal(await readBlobBytes(kv), size, "counted as the chunks land, before the manifest");
    await a.commit(kv.atomic()).commit();
    equal(await readBlobBytes(kv), size);

    // Past maxBytes after 9 chunks (one full commit of 8 went in): collected, and uncounted.
    await rejects(
      store.put(streamOf(10 * CHUNK_BYTES), { maxBytes: 9 * CHUNK_BYTES }),
      BlobTooLarge,
    );
    equal(await readBlobBytes(kv), size, "a refused upload's chunks are taken away again");

    const b = await store.put(streamOf(20 * CHUNK_BYTES + 1), { maxBytes: 1 << 30 });
    equal(await readBlobBytes(kv), size + 20 * CHUNK_BYTES + 1);
    await b.discard();
    equal(await readBlobBytes(kv), size, "a discarded upload");

    // Removed: the bytes stay until the sweep deletes the chunks.
    const now = Date.now();
    await store.remove(kv.atomic(), a.manifest.id, now).commit();
    equal(await readBlobBytes(kv), size, "removed but not yet swept");
    equal(await store.sweep(now), 1);
    equal(await readBlobBytes(kv), 0, "swept");
  });
});

Deno.test("two sweeps of the same blob at once take its bytes away once", async () => {
  await withKv(async (kv) => {
    const stores = [new KvBlobStore(kv), new KvBlobStore(kv)];
    const keep = await stores[0].put(streamOf(1000), { maxBytes: 1 << 30 });
    await keep.commit(kv.atomic()).commit();
    const gone = await stores[0].put(streamOf(250 * CHUNK_BYTES), { maxBytes: 1 << 30 });
    await gone.commit(kv.atomic()).commit();
    const now = Date.now();
    await stores[0].remove(kv.atomic(), gone.manifest.id, now).commit();
    await Promise.all(stores.map((s) => s.sweep(now)));
    equal(await readBlobBytes(kv), 1000);
  });
});

Deno.test("recountBlobBytes() repairs a counter that disagrees with the chunks", async () => {
  await withKv(async (kv) => {
    const store = new KvBlobStore(kv);
    const a = await store.put(streamOf(CHUNK_BYTES + 5), { maxBytes: 1 << 30 });
    await a.commit(kv.atomic()).commit();
    await kv.set(keys.blobBytes(), new Deno.KvU64(7n));
    equal(await recountBlobBytes(kv), CHUNK_BYTES + 5);
    equal(await readBlobBytes(kv), CHUNK_BYTES + 5);
    // A counter that wrapped below zero reads as negative, not as 16 EiB.
    await kv.atomic().sum(keys.blobBytes(), (1n << 64n) - BigInt(CHUNK_BYTES + 15)).commit();
    equal(await readBlobBytes(kv), -10);
  });
});
