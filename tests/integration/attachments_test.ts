// deno-lint-ignore-file no-explicit-any
/**
 * Attachments end to end over HTTP: the real app on a real port, a real in-memory KV (its keys
 * counted to prove what is and is not stored), real image bytes from a real encoder.
 */
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { sampleImages } from "../../lib/attachments/testing.ts";
import { api, directPair, register, withServer } from "../helpers/server.ts";
import { CHUNK_BYTES } from "../../lib/store/blobs.ts";

const MiB = 1024 * 1024;

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8) * 7) & 0xff;
  return b;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function upload(
  base: string,
  token: string,
  convId: string,
  name: string | null,
  body: Uint8Array,
  type = "application/octet-stream",
): Promise<{ status: number; body: any; headers: Headers }> {
  const q = name === null ? "" : `?name=${encodeURIComponent(name)}`;
  const res = await fetch(`${base}/api/conversations/${convId}/attachments${q}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body: body as Uint8Array<ArrayBuffer>,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

async function download(base: string, token: string, path: string, headers = {}) {
  const res = await fetch(base + path, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return {
    status: res.status,
    headers: res.headers,
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
}

async function countKeys(kv: Deno.Kv, prefixes?: string[]): Promise<number> {
  let n = 0;
  for await (const e of kv.list({ prefix: [] })) {
    if (!prefixes || prefixes.includes(e.key[0] as string)) n++;
  }
  return n;
}

const BLOB_KEYS = ["blob_chunks", "blob_manifests", "blob_gc", "attachments", "attachments_unsent"];

/** A body that streams `total` bytes without a Content-Length, then optionally fails. */
function streamed(total: number, opts: { failAt?: number; signal?: AbortSignal } = {}) {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (opts.failAt !== undefined && sent >= opts.failAt) {
        await new Promise((r) => setTimeout(r, 50));
        return c.error(new Error("client gave up"));
      }
      if (sent >= total) return c.close();
      const n = Math.min(16 * 1024, total - sent);
      c.enqueue(pattern(n));
      sent += n;
    },
  });
}

Deno.test("uploads round-trip byte-exact at 0, 1, 64 KiB ± 1 and 5 MiB, with ranges at chunk boundaries", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    for (const size of [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 5 * MiB]) {
      const bytes = pattern(size);
      const up = await upload(srv.url, alice.accessToken, convId, `f${size}.bin`, bytes);
      equal(up.status, 201, JSON.stringify(up.body));
      const a = up.body.attachment;
      eq(
        { size: a.size, sha256: a.sha256, type: a.type, width: a.width, previewUrl: a.previewUrl },
        {
          size,
          sha256: sha(bytes),
          type: "application/octet-stream",
          width: null,
          previewUrl: null,
        },
      );
      equal(a.conversationId, convId);
      // The other member downloads it.
      const full = await download(srv.url, bob.accessToken, a.url);
      equal(full.status, 200);
      eq(full.bytes, bytes, `size ${size}`);
      equal(full.headers.get("etag"), `"${sha(bytes)}"`);
      equal(full.headers.get("content-length"), String(size));
      const C = CHUNK_BYTES;
      const ranges: [number, number][] = [[0, 0], [C - 1, C], [C, C], [C - 2, 2 * C + 3], [
        3 * C,
        4 * C - 1,
      ]];
      for (const [s, e] of ranges) {
        const r = await download(srv.url, bob.accessToken, a.url, { range: `bytes=${s}-${e}` });
        if (s >= size) {
          equal(r.status, 416, `${s}-${e} of ${size}`);
          equal(r.headers.get("content-range"), `bytes */${size}`);
          continue;
        }
        const end = Math.min(e, size - 1);
        equal(r.status, 206, `${s}-${e} of ${size}`);
        equal(r.headers.get("content-range"), `bytes ${s}-${end}/${size}`);
        eq(r.bytes, bytes.slice(s, end + 1), `${s}-${e} of ${size}`);
      }
      if (size > 0) {
        const tail = await download(srv.url, bob.accessToken, a.url, { range: "bytes=-1" });
        eq([tail.status, [...tail.bytes]], [206, [bytes[size - 1]]]);
      }
    }
  });
});

Deno.test("downloads carry the ETag, answer 304 to If-None-Match, and the contract's headers", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const bytes = new TextEncoder().encode("%PDF-1.4 not really");
    const up = await upload(
      srv.url,
      alice.accessToken,
      convId,
      "Résumé (final).pdf",
      bytes,
      "application/pdf",
    );
    equal(up.status, 201);
    eq(up.body.attachment.type, "application/pdf");
    const a = up.body.attachment;
    const first = await download(srv.url, bob.accessToken, a.url);
    equal(first.status, 200);
    const h = first.headers;
    equal(h.get("x-content-type-options"), "nosniff");
    equal(h.get("content-security-policy"), "default-src 'none'; sandbox");
    equal(h.get("cache-control"), "private, max-age=31536000, immutable");
    equal(h.get("content-type"), "application/octet-stream");
    equal(
      h.get("content-disposition"),
      "attachment; filename*=UTF-8''R%C3%A9sum%C3%A9%20%28final%29.pdf",
    );
    const again = await download(srv.url, bob.accessToken, a.url, {
      "if-none-match": h.get("etag")!,
    });
    equal(again.status, 304);
    equal(again.bytes.length, 0);
    const other = await download(srv.url, bob.accessToken, a.url, { "if-none-match": '"abc"' });
    equal(other.status, 200);
  });
});

Deno.test("non-members get 404 for upload, download and preview", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const eve = await register(srv.url);
    const img = (await sampleImages(30, 20)).png;
    const up = await upload(srv.url, alice.accessToken, convId, "a.png", img, "image/png");
    equal(up.status, 201);
    const denied = await upload(srv.url, eve.accessToken, convId, "b.bin", pattern(10));
    eq([denied.status, denied.body.error.code], [404, "not_found"]);
    for (const path of [up.body.attachment.url, up.body.attachment.previewUrl]) {
      equal((await download(srv.url, eve.accessToken, path)).status, 404);
    }
    equal((await download(srv.url, eve.accessToken, "/api/attachments/nope")).status, 404);
    const anon = await fetch(srv.url + up.body.attachment.url);
    await anon.body?.cancel();
    equal(anon.status, 401);
  });
});

Deno.test("an upload over ATTACHMENT_MAX_BYTES is 413 and nothing is stored", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    // Refused from Content-Length alone: not one key changes.
    const before = await countKeys(srv.kv);
    const big = await upload(srv.url, alice.accessToken, convId, "big.bin", pattern(300_001));
    eq([big.status, big.body.error.code], [413, "too_large"]);
    equal(await countKeys(srv.kv), before);
    // Streamed without a length: cut off once it passes the limit, its chunks gone.
    const res = await fetch(`${srv.url}/api/conversations/${convId}/attachments?name=s.bin`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.accessToken}` },
      body: streamed(2 * MiB),
    }).catch((err) => err);
    if (res instanceof Response) {
      eq([res.status, (await res.json()).error.code], [413, "too_large"]);
    }
    for (let i = 0; i < 50 && await countKeys(srv.kv, BLOB_KEYS) > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    equal(await countKeys(srv.kv, BLOB_KEYS), 0);
    // Exactly the limit is fine.
    equal(
      (await upload(srv.url, alice.accessToken, convId, "ok.bin", pattern(300_000))).status,
      201,
    );
  }, { ATTACHMENT_MAX_BYTES: "300000" });
});

Deno.test("past the per-user quota uploads are 429 rate_limited with retryAfterMs", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    equal(
      (await upload(srv.url, alice.accessToken, convId, "1.bin", pattern(600_000))).status,
      201,
    );
    const over = await upload(srv.url, alice.accessToken, convId, "2.bin", pattern(500_000));
    eq([over.status, over.body.error.code], [429, "rate_limited"]);
    const wait = over.body.error.retryAfterMs;
    ok(wait > 23 * 3600_000 && wait <= 24 * 3600_000, `retryAfterMs ${wait}`);
    ok(Number(over.headers.get("retry-after")) > 0);
    // Streamed without a length, the quota stops it as the bytes arrive.
    const streamedOver = await fetch(
      `${srv.url}/api/conversations/${convId}/attachments?name=3.bin`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${alice.accessToken}` },
        body: streamed(900_000),
      },
    ).catch((err) => err);
    if (streamedOver instanceof Response) equal(streamedOver.status, 429);
    // Parallel uploads of one user neither fail each other nor escape the count.
    const many = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => upload(srv.url, bob.accessToken, convId, `p${i}.bin`, pattern(100_000)),
      ),
    );
    eq(many.map((r) => r.status), Array(8).fill(201));
    const after = await upload(srv.url, bob.accessToken, convId, "p9.bin", pattern(300_000));
    equal(after.status, 429, "800,000 + 300,000 is past 1,000,000");
    // The quota is per uploader: Carol still may.
    const carol = await register(srv.url);
    const other = await api(srv.url, "POST", "/api/conversations", {
      token: carol.accessToken,
      body: { kind: "direct", userId: alice.user.id },
    });
    const carolUp = await upload(
      srv.url,
      carol.accessToken,
      other.body.conversation.id,
      "c.bin",
      pattern(500_000),
    );
    equal(carolUp.status, 201);
  }, { ATTACHMENT_QUOTA_BYTES: "1000000" });
});

Deno.test("what is not a complete image is a file: text named x.png, SVG, a truncated PNG", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const png = (await sampleImages(40, 30)).png;
    const svg = new TextEncoder().encode(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
    );
    const cases: [string, Uint8Array, string][] = [
      ["x.png", new TextEncoder().encode("plain text, honestly"), "image/png"],
      ["logo.svg", svg, "image/svg+xml"],
      ["cut.png", png.slice(0, png.length - 20), "image/png"],
    ];
    for (const [name, bytes, type] of cases) {
      const up = await upload(srv.url, alice.accessToken, convId, name, bytes, type);
      equal(up.status, 201, name);
      const a = up.body.attachment;
      eq(
        [a.type, a.width, a.height, a.previewUrl],
        ["application/octet-stream", null, null, null],
        name,
      );
      const got = await download(srv.url, bob.accessToken, a.url);
      equal(got.headers.get("content-type"), "application/octet-stream", name);
      ok(got.headers.get("content-disposition")!.startsWith("attachment; filename*=UTF-8''"));
      eq(got.bytes, bytes);
      equal((await download(srv.url, bob.accessToken, `${a.url}/preview`)).status, 404);
    }
  });
});

Deno.test("images are typed from their bytes and big ones get a 720 px preview", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const big = await sampleImages(1000, 600);
    // Declared wrongly on purpose: the bytes decide.
    const up = await upload(
      srv.url,
      alice.accessToken,
      convId,
      "photo.jpg",
      big.jpeg,
      "text/plain",
    );
    equal(up.status, 201);
    const a = up.body.attachment;
    eq([a.type, a.width, a.height], ["image/jpeg", 1000, 600]);
    equal(a.previewUrl, `${a.url}/preview`);
    const orig = await download(srv.url, bob.accessToken, a.url);
    eq([orig.headers.get("content-type"), orig.headers.get("content-disposition")], [
      "image/jpeg",
      "inline",
    ]);
    eq(orig.bytes, big.jpeg);
    const prev = await download(srv.url, bob.accessToken, a.previewUrl);
    equal(prev.status, 200);
    equal(prev.headers.get("content-type"), "image/jpeg");
    equal(prev.headers.get("content-security-policy"), "default-src 'none'; sandbox");
    const { Image } = await import("imagescript");
    const decoded = await Image.decode(prev.bytes);
    eq([decoded.width, decoded.height], [720, 432]);
    ok(prev.bytes.length < big.jpeg.length);
    // A small image is its own preview.
    const small = await sampleImages(64, 48);
    for (const [bytes, type] of [[small.gif, "image/gif"], [small.webp, "image/webp"]] as const) {
      const s = (await upload(srv.url, alice.accessToken, convId, "s", bytes)).body.attachment;
      eq([s.type, s.width, s.height], [type, 64, 48]);
      const p = await download(srv.url, bob.accessToken, s.previewUrl);
      eq([p.headers.get("content-type"), p.bytes], [type, bytes]);
    }
  });
});

Deno.test("name must be 1-255 code points without control or direction characters", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const bad = [null, "", "a\u202Egnp.exe", "tab\there", "x".repeat(256)];
    for (const name of bad) {
      const r = await upload(srv.url, alice.accessToken, convId, name, pattern(3));
      eq(
        [r.status, r.body.error.code, r.body.error.field],
        [400, "invalid_input", "name"],
        `${name}`,
      );
    }
    const longest = "😀".repeat(255);
    const ok255 = await upload(srv.url, alice.accessToken, convId, longest, pattern(3));
    eq([ok255.status, ok255.body.attachment.name], [201, longest]);
  });
});

Deno.test("an aborted upload leaves nothing visible and its chunks are collected", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const res = await fetch(`${srv.url}/api/conversations/${convId}/attachments?name=x.bin`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.accessToken}` },
      body: streamed(3 * MiB, { failAt: MiB }),
    }).catch((err) => err);
    ok(!(res instanceof Response) || res.status >= 400);
    for (let i = 0; i < 100 && await countKeys(srv.kv, BLOB_KEYS) > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    equal(await countKeys(srv.kv, ["attachments", "blob_manifests"]), 0);
    // Whatever the server had not cleaned up yet goes at the sweep once due.
    await srv.rt.attachments.sweep(Date.now() + 3 * 3600_000);
    equal(await countKeys(srv.kv, BLOB_KEYS), 0);
  });
});

Deno.test("an upload no message refers to is deleted after 24 hours", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const img = await sampleImages(900, 900);
    const up = await upload(srv.url, alice.accessToken, convId, "a.png", img.png);
    equal(up.status, 201);
    const a = up.body.attachment;
    eq(await srv.rt.attachments.sweep(Date.now() + 23 * 3600_000), { attachments: 0, blobs: 0 });
    equal((await download(srv.url, alice.accessToken, a.url)).status, 200);
    eq(await srv.rt.attachments.sweep(Date.now() + 25 * 3600_000), { attachments: 1, blobs: 2 });
    equal((await download(srv.url, alice.accessToken, a.url)).status, 404);
    equal(await countKeys(srv.kv, BLOB_KEYS), 0);
  });
});
