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
