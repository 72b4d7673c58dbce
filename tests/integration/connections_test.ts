/**
 * What the server does to connections it must end or refuse: oversized frames of either kind,
 * sockets it closed whose peer never answers, and caps on sockets and queued bytes. Real server
 * on port 0, real KV, real sockets (a raw TCP client where a WebSocket client would be too
 * polite).
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { api, directPair, withServer, WsClient } from "../helpers/server.ts";

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
    ),
  ]);

Deno.test("a binary frame over 64 KiB closes with 1009; a small one is refused and the socket stays", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const small = await WsClient.connect(srv.wsUrl, alice.accessToken);
    small.socket.send(new Uint8Array(100));
    const err = await small.next((f) => f.type === "error");
    eq(err.error.code, "invalid_input");
    eq((await small.sendMessage(convId, "still here")).type, "ack");
    await small.close();

    for (const size of [70 * 1024, 16 * 1024 * 1024]) {
      const big = await WsClient.connect(srv.wsUrl, alice.accessToken);
      big.socket.send(new Uint8Array(size));
      eq((await within(big.closed, 10_000, `close after ${size} bytes`)).code, 1009);
    }
  });
});

/**
 * A WebSocket peer over raw TCP that completes the handshake and then neither reads nor
 * answers anything: a phone that lost its network, as the server sees it.
 */
async function silentPeer(wsUrl: string, token: string) {
  const url = new URL(`${wsUrl}?token=${encodeURIComponent(token)}`);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(
    new TextEncoder().encode(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  const buf = new Uint8Array(1024);
  const n = await conn.read(buf);
  const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
  if (!head.startsWith("HTTP/1.1 101")) throw new Error(`no upgrade: ${head}`);
  return {
    /** Reads (and discards) until the server drops the TCP connection. */
    async untilDropped(): Promise<void> {
      const sink = new Uint8Array(64 * 1024);
      while ((await conn.read(sink)) !== null) { /* keep reading */ }
    },
    close: () => {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

Deno.test("a socket closed by the server leaves at once: its user goes offline though the peer never answers", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const watcher = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const keepAlive = setInterval(() => watcher.send({ type: "ping" }), 200);
    const peer = await silentPeer(srv.wsUrl, bob.accessToken);
    try {
      await watcher.next((f) => f.type === "presence" && f.userId === bob.user.id && f.online);
      // Bob's peer says nothing: closed with 4002 after 1 s, and announced offline at once,
      // not when (or if) the peer answers the close.
      const off = await watcher.next(
        (f) => f.type === "presence" && f.userId === bob.user.id && !f.online,
        4000,
      );
      ok(typeof off.lastSeen === "number");
      const seen = await api(srv.url, "GET", `/api/conversations/${convId}`, {
        token: alice.accessToken,
      });
      eq((seen.body.conversation ?? seen.body).peer.online, false);
      eq(srv.rt.realtime.hub.size, 1, "only the watcher's connection is left");
      // The peer's TCP connection is dropped after a bounded wait for its close.
      await within(peer.untilDropped(), 10_000, "TCP drop of a peer that never answers");
    } finally {
      clearInterval(keepAlive);
      peer.close();
      await watcher.close();
    }
  }, { HEARTBEAT_TIMEOUT_MS: "1000" });
});

/** Opens a socket and resolves with its `ready` frame, or with its close when refused. */
async function attempt(wsUrl: string, token: string) {
  const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
  const outcome = await within(
    new Promise<{ ready?: { connectionId: string }; code?: number; reason?: string }>(
      (resolve) => {
        socket.onmessage = (e) => {
          const data = JSON.parse(e.data);
          const first = Array.isArray(data) ? data[0] : data;
          if (first?.type === "ready") resolve({ ready: first });
        };
        socket.onclose = (e) => resolve({ code: e.code, reason: e.reason });
      },
    ),
    10_000,
    "ready or close",
  );
  return { socket, ...outcome };
}

async function closeAll(sockets: WebSocket[]) {
  await Promise.all(
    sockets.map((s) =>
      s.readyState === WebSocket.CLOSED ? null : new Promise((r) => {
        s.addEventListener("close", r);
        s.close(1000);
      })
    ),
  );
}

Deno.test("past MAX_SOCKETS_PER_USER a new socket is closed with 4003; closing one makes room", async () => {
  await withServer(async (srv) => {
    const { alice, bob } = await directPair(srv.url);
    const open: WebSocket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const a = await attempt(srv.wsUrl, alice.accessToken);
        ok(a.ready, `socket ${i + 1} of 3 is admitted`);
        open.push(a.socket);
      }
      const fourth = await attempt(srv.wsUrl, alice.accessToken);
      eq(fourth.ready, undefined);
      eq(fourth.code, 4003);
      eq(fourth.reason, "too many connections; retry after 30 s");
      // Another user is not affected by Alice's count.
      const other = await attempt(srv.wsUrl, bob.accessToken);
      ok(other.ready);
      open.push(other.socket);
      // One of Alice's closes: a new one is admitted again.
      await closeAll([open.shift()!]);
      let again = await attempt(srv.wsUrl, alice.accessToken);
      for (let i = 0; !again.ready && i < 20; i++) {
        await new Promise((r) => setTimeout(r, 50)); // the release is written after the close
        again = await attempt(srv.wsUrl, alice.accessToken);
      }
      ok(again.ready, "admitted once one of the three closed");
      open.push(again.socket);
    } finally {
      await closeAll(open);
    }
  }, { MAX_SOCKETS_PER_USER: "3" });
});

Deno.test("MAX_SOCKETS_PER_ADDRESS caps sockets from one address whoever opens them", async () => {
  await withServer(async (srv) => {
    const { alice, bob } = await directPair(srv.url);
    const open: WebSocket[] = [];
    try {
      for (const who of [alice, bob]) {
        const a = await attempt(srv.wsUrl, who.accessToken);
        ok(a.ready);
        open.push(a.socket);
      }
      const third = await attempt(srv.wsUrl, bob.accessToken);
      eq(third.code, 4003);
    } finally {
      await closeAll(open);
    }
  }, { MAX_SOCKETS_PER_ADDRESS: "2" });
});
