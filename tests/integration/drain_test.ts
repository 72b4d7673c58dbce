/**
 * Draining inside one isolate (what SIGUSR2 starts; `restart_test.ts` drives the signals):
 * sends being committed are acked (nothing is stored unacked), then `/ready` is 503 for good, new upgrades are refused with
 * 503 `unavailable`, new frames go unanswered, and `drainRuntime` closes the sockets with 1001.
 */
import { equal, ok } from "node:assert/strict";
import { drainRuntime } from "../../lib/shutdown.ts";
import { api, directPair, startServer, WsClient } from "../helpers/server.ts";

Deno.test("a drain acks the sends in flight, refuses upgrades, then closes sockets with 1001", async () => {
  const srv = await startServer();
  try {
    const { alice, convId } = await directPair(srv.url);
    const ws = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const other = await WsClient.connect(srv.wsUrl, alice.accessToken);
    // A burst of sends, and the drain starting at the first ack: some are being committed,
    // some not yet read. Whatever is stored must be acked, and whatever is acked stored.
    const ids = Array.from({ length: 20 }, () => crypto.randomUUID());
    for (const id of ids) ws.send({ type: "send", id, conversationId: convId, body: "burst" });
    await ws.next((f) => f.type === "ack");
    const drained = drainRuntime(srv.rt, 2000);
    // Frames after the start of the drain are not answered.
    other.send({ type: "ping", reqId: "late" });

    const ready = await api(srv.url, "GET", "/ready");
    equal(ready.status, 503);
    equal(ready.body.status, "draining");
    const upgrade = await api(srv.url, "GET", `/api/ws?token=${alice.accessToken}`, {
      headers: { upgrade: "websocket" },
    });
    equal(upgrade.status, 503);
    equal(upgrade.body.error.code, "unavailable");
    equal(upgrade.headers.get("retry-after"), "1");

    ok(await drained, "every accepted send was answered");
    equal((await ws.closed).code, 1001, "also the socket whose acks went out last");
    equal((await other.closed).code, 1001);
    ok(!other.frames.some((f) => f.type === "pong"), "the late ping went unanswered");
    const acked = new Map<string, number>(
      ws.frames.filter((f) => f.type === "ack").map((f) => [f.id, f.seq]),
    );
    const history = await api(srv.url, "GET", `/api/conversations/${convId}/messages`, {
      token: alice.accessToken,
    });
    const stored = new Map<string, number>(
      history.body.messages.map((m: { id: string; seq: number }) => [m.id, m.seq]),
    );
    equal(stored.size, acked.size, "as many stored as acked");
    for (const [id, seq] of acked) equal(stored.get(id), seq);
    ok(acked.size >= 1 && acked.size <= ids.length);
    equal((await api(srv.url, "GET", "/ready")).status, 503, "never ready again");
  } finally {
    await srv.close();
  }
});
