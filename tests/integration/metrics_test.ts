/**
 * `/metrics`: who may read it, what it counts, and that one scrape covers every isolate of a
 * real `deno serve --parallel` server. Also `X-Request-Id` on every response.
 */
import { equal, match, ok } from "node:assert/strict";
import { loadConfig } from "../../lib/config.ts";
import { createRuntime } from "../../lib/runtime.ts";
import { openKv } from "../../lib/store/kv.ts";
import { createApp } from "../../routes/mod.ts";
import { api, directPair, register, startServer, withServer, WsClient } from "../helpers/server.ts";
import { startParallel } from "../helpers/parallel.ts";

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/metrics`, { headers, redirect: "manual" });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

/** The value of the first series whose line starts with `prefix` (name and labels so far). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return null;
}

Deno.test("/metrics answers a loopback scraper with what the server did", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const ws = await WsClient.connect(srv.wsUrl, alice.accessToken);
    await ws.sendAcked(convId, "counted");
    await api(srv.url, "GET", `/api/conversations/${convId}`, { token: alice.accessToken });
    const m = await scrape(srv.url);
    equal(m.status, 200);
    match(m.type ?? "", /^text\/plain; version=0\.0\.4/);
    const iso = srv.rt.isolateId;
    equal(
      value(m.text, "parley_http_requests_total", {
        route: "/api/auth/register",
        method: "POST",
        status: "201",
        isolate: iso,
      }),
      2,
    );
    equal(
      value(m.text, "parley_http_requests_total", {
        route: "/api/conversations/:id",
        status: "200",
      }),
      1,
      "labelled by route pattern, not by the raw path",
    );
    ok(!m.text.includes(convId), "no ids in labels");
    ok(
      value(m.text, "parley_http_request_duration_seconds_count", {
        route: "/api/conversations/:id",
      }),
    );
    equal(value(m.text, "parley_ws_connections", { isolate: iso }), 1);
    equal(value(m.text, "parley_connected_users", { isolate: iso }), 1);
    ok((value(m.text, "parley_kv_commit_seconds_count") ?? 0) > 0);
    match(m.text, /# TYPE parley_send_ack_seconds histogram/);
    match(m.text, /# TYPE parley_kv_commit_retries_total counter/);
    await ws.close();
  });
});

/** POSTs `body` as an attachment of `convId`; returns the status. */
async function uploadFile(
  url: string,
  token: string,
  convId: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
): Promise<number> {
  const res = await fetch(`${url}/api/conversations/${convId}/attachments?name=notes.txt`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
    body: body as BodyInit,
  }).catch((err: Error) => err);
  if (res instanceof Error) return 0; // the server may answer 413 and close before all is sent
  await res.body?.cancel();
  return res.status;
}

/** A body of `total` bytes streamed without a Content-Length. */
function streamedBody(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(16 * 1024, total - sent);
      c.enqueue(new Uint8Array(n).fill(0x61));
      sent += n;
    },
  });
}

Deno.test("parley_attachment_bytes follows the bytes stored: upload, refusal mid-stream, sweep", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const bytes = async () => {
      const text = (await scrape(srv.url)).text;
      match(text, /# TYPE parley_attachment_bytes gauge/);
      ok(!/parley_attachment_bytes\{/.test(text), "one value for the store, not one per isolate");
      return value(text, "parley_attachment_bytes");
    };
    equal(await bytes(), 0);
    equal(await uploadFile(srv.url, alice.accessToken, convId, new Uint8Array(70_000)), 201);
    equal(await bytes(), 70_000);
    // Past the limit while streaming, after one 512 KiB commit of chunks: those are collected.
    const refused = await uploadFile(srv.url, alice.accessToken, convId, streamedBody(1_000_000));
    ok(refused === 413 || refused === 0, `refused (${refused})`);
    for (let i = 0; i < 100 && await bytes() !== 70_000; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    equal(await bytes(), 70_000, "the refused upload's chunks are no longer counted");
    // The upload no message referred to is deleted after a day, and its chunks swept.
    const late = Date.now() + 25 * 3600 * 1000;
    equal((await srv.rt.attachments.sweep(late)).attachments, 1);
    equal(await bytes(), 0);
  }, { ATTACHMENT_MAX_BYTES: "600000" });
});

Deno.test("/metrics is a 404 through a proxy, or without the token when one is set", async () => {
  await withServer(async (srv) => {
    equal((await scrape(srv.url, { "x-forwarded-for": "203.0.113.9" })).status, 404);
    equal((await scrape(srv.url, { forwarded: "for=203.0.113.9" })).status, 404);
    equal((await scrape(srv.url, { "x-forwarded-for": "127.0.0.1" })).status, 404);
  });
  await withServer(async (srv) => {
    // With TRUST_PROXY_HOPS the derived client must be loopback too.
    equal((await scrape(srv.url, { "x-forwarded-for": "127.0.0.1" })).status, 200);
    equal((await scrape(srv.url, { "x-forwarded-for": "203.0.113.9" })).status, 404);
  }, { TRUST_PROXY_HOPS: "1" });
  await withServer(async (srv) => {
    equal((await scrape(srv.url)).status, 404, "with a token, loopback alone is not enough");
    equal((await scrape(srv.url, { authorization: "Bearer wrong-token-0000" })).status, 404);
    equal((await scrape(srv.url, { authorization: "Bearer s3cret-metrics" })).status, 200);
    equal(
      (await scrape(srv.url, {
        authorization: "Bearer s3cret-metrics",
        "x-forwarded-for": "203.0.113.9",
      })).status,
      200,
      "the token works from anywhere",
    );
  }, { METRICS_TOKEN: "s3cret-metrics" });
});

Deno.test("/metrics is a 404 for a peer that is not loopback", async (t) => {
  const addr = Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  )?.address;
  if (!addr) {
    await t.step({ name: "no non-loopback IPv4 address on this machine", ignore: true, fn() {} });
    return;
  }
  const config = loadConfig({ KV_PATH: ":memory:", LOG_LEVEL: "error" });
  const kv = await openKv(":memory:");
  const rt = await createRuntime(config, kv);
  const server = Deno.serve(
    { hostname: "0.0.0.0", port: 0, onListen: () => {} },
    createApp(rt).fetch,
  );
  try {
    equal((await scrape(`http://${addr}:${server.addr.port}`)).status, 404);
    equal((await scrape(`http://127.0.0.1:${server.addr.port}`)).status, 200);
  } finally {
    await rt.close();
    await server.shutdown();
    kv.close();
  }
});

Deno.test("every response carries X-Request-Id: the client's when sane, else a new one", async () => {
  const srv = await startServer();
  try {
    const given = await fetch(`${srv.url}/health`, { headers: { "x-request-id": "abc.DEF-12_3" } });
    await given.body?.cancel();
    equal(given.headers.get("x-request-id"), "abc.DEF-12_3");
    for (const bad of ["has space", "x".repeat(129), "semi;colon"]) {
      const res = await fetch(`${srv.url}/health`, { headers: { "x-request-id": bad } });
      await res.body?.cancel();
      const id = res.headers.get("x-request-id") ?? "";
      ok(/^[A-Za-z0-9._-]{1,128}$/.test(id) && id !== bad, `replaced ${bad}`);
    }
    const a = await api(srv.url, "GET", "/api/nothing-here");
    const b = await api(srv.url, "POST", "/api/auth/login", { body: { username: "x" } });
    const c = await fetch(`${srv.url}/chat`, { redirect: "manual" });
    await c.body?.cancel();
    const ids = [a, b].map((r) => r.headers.get("x-request-id")).concat(
      c.headers.get("x-request-id"),
    );
    equal(a.status, 404);
    equal(b.status, 400);
    equal(c.status, 302);
    ok(ids.every((id) => id && id.length > 0));
    equal(new Set(ids).size, 3, "a new id per request");
    await register(srv.url);
  } finally {
    await srv.close();
  }
});

Deno.test({
  name: "one scrape of a deno serve --parallel server covers every isolate",
  sanitizeResources: false,
  async fn() {
    const srv = await startParallel({ METRICS_INTERVAL_MS: "1000" });
    try {
      // Snapshots are written every second; give each isolate time for one after the probes.
      let text = "";
      const inScrape = (iso: string) =>
        (value(text, "parley_http_requests_total", { route: "/health", isolate: iso }) ?? 0) > 0;
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 200));
        text = (await scrape(srv.url)).text;
        if ([...srv.isolates].every(inScrape)) break;
      }
      for (const iso of srv.isolates) {
        ok(inScrape(iso), `isolate ${iso} is in the scrape`);
        ok(value(text, "parley_metrics_snapshot_age_seconds", { isolate: iso }) !== null);
      }
    } finally {
      await srv.stop();
    }
  },
});
