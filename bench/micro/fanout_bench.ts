/**
 * Local fan-out of one new message to N sockets of this isolate (N = 100, 1000).
 *
 * - baseline (the naive way): `JSON.stringify` the frame per recipient and `send` per recipient;
 * - `Hub.toConversation`: serialize once, hand the same string to every real `WsConnection`
 *   (enqueue), then `conn.flush()` each one, as the per-tick `flushAll` does;
 * - `Realtime.publishMessages`: the engine's whole local path (Sequencer.offer →
 *   #deliverMessage → Hub → WsConnection) plus its BroadcastChannel post, then the flush.
 *
 * A second group per N puts 10 messages in one tick, where WsConnection coalesces them into
 * one JSON array per socket. Sockets are stand-ins (`CountingSocket` in _support.ts) that
 * only count bytes. Per-recipient cost = time/iter ÷ N (see RESULTS.md).
 * @module
 */
import { loadConfig } from "../../lib/config.ts";
import { setLogLevel } from "../../lib/log.ts";
import type { Message } from "../../lib/protocol.ts";
import { WsConnection } from "../../lib/realtime/connection.ts";
import { Hub } from "../../lib/realtime/hub.ts";
import { createRuntime, type Runtime } from "../../lib/runtime.ts";
import { createGroup } from "../../lib/store/conversations.ts";
import { createUser } from "../../lib/store/users.ts";
import { atExit, CountingSocket, openBenchKv, sampleMessage } from "./_support.ts";

setLogLevel("error");

const SIZES = [100, 1000] as const;
const PER_TICK = 10;

const kvh = await openBenchKv(":memory:");
const runtimes: Runtime[] = [];
const sockets: CountingSocket[] = [];
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bare Hub with N users, one stand-in socket each, all in conversation `convId`. */
function bareHub(n: number, convId: string) {
  const hub = new Hub();
  const conns: WsConnection[] = [];
  const socks: CountingSocket[] = [];
  for (let i = 0; i < n; i++) {
    const sock = new CountingSocket();
    const conn = new WsConnection(`c${i}`, `u${i}`, "s", sock as unknown as WebSocket);
    hub.add(conn);
    hub.subscribe(`u${i}`, [convId]);
    conns.push(conn);
    socks.push(sock);
  }
  sockets.push(...socks);
  return { hub, conns, socks };
}

/** A real runtime whose N members are connected through `Realtime.connect` on stand-ins. */
async function engineRig(n: number) {
  const rt = await createRuntime(
    loadConfig({ KV_PATH: ":memory:", LOG_LEVEL: "error", HEARTBEAT_TIMEOUT_MS: "86400000" }),
    kvh.kv,
  );
  runtimes.push(rt);
  const users = await Promise.all(
    Array.from(
      { length: n },
      (_, i) => createUser(kvh.kv, { username: `fan${n}_${i}`, passwordHash: "x" }),
    ),
  );
  const conv = await createGroup(kvh.kv, users[0].id, "fan-out", users.slice(1).map((u) => u.id));
  await settle(300); // member_added events applied while nobody is connected
  const conns: WsConnection[] = [];
  const socks: CountingSocket[] = [];
  for (const u of users) {
    const sock = new CountingSocket();
    const conn = new WsConnection(`e${n}-${u.id}`, u.id, "s", sock as unknown as WebSocket);
    await rt.realtime.connect(conn);
    conns.push(conn);
    socks.push(sock);
  }
  await settle(300);
  for (const c of conns) c.flush();
  for (const s of socks) s.frames = s.chars = 0;
  sockets.push(...socks);
  return { rt, convId: conv.id, conns, socks, seq: 0 };
}

for (const n of SIZES) {
  const convId = crypto.randomUUID();
  const base: Message = { ...sampleMessage(1), conversationId: convId };
  const naive = Array.from({ length: n }, () => new CountingSocket());
  sockets.push(...naive);
  const { hub, conns } = bareHub(n, convId);
  const eng = await engineRig(n);

  Deno.bench({
    name: `naive: stringify + send per recipient, N=${n}`,
    group: `fanout 1 msg N=${n}`,
    baseline: true,
    fn() {
      const frame = { type: "message", message: base };
      for (const s of naive) s.send(JSON.stringify(frame));
    },
  });
  Deno.bench({
    name: `Hub.toConversation + flush, N=${n}`,
    group: `fanout 1 msg N=${n}`,
    fn() {
      const raw = '{"type":"message","message":' + JSON.stringify(base) + "}";
      hub.toConversation(convId, raw);
      for (const c of conns) c.flush();
    },
  });
  Deno.bench({
    name: `Realtime.publishMessages + flush, N=${n}`,
    group: `fanout 1 msg N=${n}`,
    fn() {
      const m = { ...base, conversationId: eng.convId, seq: ++eng.seq };
      eng.rt.realtime.publishMessages(eng.convId, [m]);
      for (const c of eng.conns) c.flush();
    },
  });

  // ---- 10 messages in one tick: one socket write per recipient, a JSON array ----
  const batch = Array.from({ length: PER_TICK }, (_, i) => ({ ...base, seq: i + 1 }));
  Deno.bench({
    name: `naive: ${PER_TICK} msgs, stringify + send each, N=${n}`,
    group: `fanout ${PER_TICK} msgs/tick N=${n}`,
    baseline: true,
    fn() {
      for (const m of batch) {
        const frame = { type: "message", message: m };
        for (const s of naive) s.send(JSON.stringify(frame));
      }
    },
  });
  Deno.bench({
    name: `Hub.toConversation x${PER_TICK} + flush (coalesced), N=${n}`,
    group: `fanout ${PER_TICK} msgs/tick N=${n}`,
    fn() {
      for (const m of batch) {
        hub.toConversation(convId, '{"type":"message","message":' + JSON.stringify(m) + "}");
      }
      for (const c of conns) c.flush();
    },
  });
  Deno.bench({
    name: `Realtime.publishMessages ${PER_TICK} msgs + flush (coalesced), N=${n}`,
    group: `fanout ${PER_TICK} msgs/tick N=${n}`,
    fn() {
      const ms = batch.map((m) => ({ ...m, conversationId: eng.convId, seq: ++eng.seq }));
      eng.rt.realtime.publishMessages(eng.convId, ms);
      for (const c of eng.conns) c.flush();
    },
  });
}

atExit(() => {
  // Sanity: every stand-in socket got frames, so nothing was measured doing nothing.
  const silent = sockets.filter((s) => s.frames === 0).length;
  const frames = sockets.reduce((a, s) => a + s.frames, 0);
  const chars = sockets.reduce((a, s) => a + s.chars, 0);
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      `\nfan-out sanity: ${sockets.length} stand-in sockets, ${silent} silent, ` +
        `${frames} writes, ${(chars / Math.max(1, frames)).toFixed(0)} chars/write on average\n`,
    ),
  );
  for (const rt of runtimes) void rt.close();
  kvh.close();
});
