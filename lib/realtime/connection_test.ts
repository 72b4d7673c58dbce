import { deepStrictEqual as eq } from "node:assert/strict";
import { MAX_QUEUED_BYTES, WsConnection } from "./connection.ts";
import { WriteScheduler } from "./scheduler.ts";

/**
 * A stand-in (named as such) for a peer that stopped reading: a real one needs megabytes to
 * pile up in kernel buffers before the socket reports anything, which a test cannot cause
 * quickly under the send rate limit. It records what the connection writes and how it closes.
 */
class StalledSocketStandIn {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: number | null = null;
  send(data: string) {
    this.sent.push(data);
    this.bufferedAmount += data.length; // the peer reads nothing, so everything stays buffered
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = WebSocket.CLOSED;
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

Deno.test("frames queued in one turn go out as one JSON array; a single frame goes out alone", async () => {
  const socket = new StalledSocketStandIn();
  const conn = new WsConnection("c1", "u1", "s1", socket as unknown as WebSocket);
  conn.send({ type: "pong", ts: 1 });
  await tick();
  conn.send({ type: "pong", ts: 2 });
  conn.sendRaw('{"type":"pong","ts":3}');
  await tick();
  eq(socket.sent.map((s) => JSON.parse(s)), [
    { type: "pong", ts: 1 },
    [{ type: "pong", ts: 2 }, { type: "pong", ts: 3 }],
  ]);
});

Deno.test("a reader too slow to keep up is closed with 1008 and its queue dropped", async () => {
  const socket = new StalledSocketStandIn();
  const conn = new WsConnection("c1", "u1", "s1", socket as unknown as WebSocket);
  const frame = JSON.stringify({ type: "message", body: "x".repeat(4000) });
  for (let i = 0; conn.open && i < (MAX_QUEUED_BYTES / frame.length) * 2; i++) {
    conn.sendRaw(frame);
    if (i % 100 === 0) await tick();
  }
  eq(socket.closedWith, 1008);
  eq(conn.open, false);
  const before = socket.sent.length;
  conn.sendRaw(frame);
  await tick();
  eq(socket.sent.length, before, "nothing more is written to a dropped reader");
});

Deno.test("a connection given its own scheduler writes when that scheduler flushes, not before", () => {
  const socket = new StalledSocketStandIn();
  const flushes: (() => void)[] = [];
  const scheduler = new WriteScheduler({ setTimer: (fn) => flushes.push(fn), cpuTime: null });
  const conn = new WsConnection("c1", "u1", "s1", socket as unknown as WebSocket, scheduler);
  conn.send({ type: "pong", ts: 1 });
  conn.send({ type: "pong", ts: 2 });
  eq(socket.sent, []);
  eq(flushes.length, 1);
  flushes[0]();
  eq(socket.sent.map((s) => JSON.parse(s)), [[{ type: "pong", ts: 1 }, { type: "pong", ts: 2 }]]);
});
