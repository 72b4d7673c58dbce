// deno-lint-ignore-file no-console
/**
 * The `population` scenario (issue 16): many users in many small conversations, a share of them
 * online and sending, then a server restart that every online client rides through.
 *
 *   deno run -A bench/population.ts [--users 10000] [--directs 10] [--groups 5]
 *     [--group-size 50] [--history 5] [--online 0.2] [--rate 0.05] [--before 15] [--after 20]
 *
 * 1. Seeds a KV file through the store's own functions and keys (createUser, createSession;
 *    conversations as createDirect and createGroup write them, with `addMemberOps`, many per
 *    commit, each with its history written as commitGroups writes it), on tmpfs (/dev/shm),
 *    where a commit costs no fsync, then copied to a temporary
 *    directory on disk for the server.
 * 2. Starts Parley (`deno serve`, one isolate) on it; `--online` of the users connect. Each
 *    client knows every conversation up to `history - 2`, and on every (re)connect syncs every
 *    one of its conversations from the highest seq it has (a real client's catch-up).
 * 3. For `--before` seconds, every online user sends `--rate` messages a second on average,
 *    each to one of its conversations at random.
 * 4. Restart: SIGTERM (the server drains and closes every socket with 1001), a new server on
 *    the same file; clients reconnect (retrying every 200–400 ms) and catch up; online users
 *    keep sending throughout. After `--after` seconds and a quiet drain, every client's
 *    received seqs are checked against every conversation's final head.
 *
 * Reports: connect-and-catch-up time for all online clients after the restart (from the new
 * server's start, and from its first healthy answer), KV operations per reconnect (the
 * server's `parley_kv_commit_seconds_count`: reads and commits made through `retry`, sends'
 * commits included), send→delivery p50/p99 during the catch-up and after it, and lost and
 * duplicated messages (both must be 0). One `BENCH_JSON {...}` line at the end.
 * @module
 */
import { parseArgs } from "node:util";
import { LIMITS, type Message, unchanged } from "../lib/protocol.ts";
import { addMemberOps } from "../lib/store/conversations.ts";
import { indexedPerMember } from "../lib/store/inbox.ts";
import { keys } from "../lib/store/keys.ts";
import type { Head } from "../lib/store/messages.ts";
import type { ConversationRecord } from "../lib/store/records.ts";
import { Histogram } from "./histogram.ts";
import { cpuSeconds, stop, stopAll } from "./proc.ts";
import { seedUsers } from "./seed.ts";
import { startParley } from "./targets.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    users: { type: "string", default: "10000" },
    directs: { type: "string", default: "10" },
    groups: { type: "string", default: "5" },
    "group-size": { type: "string", default: "50" },
    history: { type: "string", default: "5" },
    online: { type: "string", default: "0.2" },
    rate: { type: "string", default: "0.05" },
    before: { type: "string", default: "15" },
    after: { type: "string", default: "20" },
  },
});
const U = Number(values.users);
const DIRECTS = Number(values.directs);
const GROUPS = Number(values.groups);
const GROUP_SIZE = Number(values["group-size"]);
const HISTORY = Math.max(2, Number(values.history));
const ONLINE = Math.round(U * Number(values.online));
const RATE = Number(values.rate);
if (DIRECTS % 2 !== 0) throw new Error("--directs must be even (each pair is made once)");
if (U % GROUP_SIZE !== 0) throw new Error("--users must be a multiple of --group-size");

const log = (s: string) => console.error(`[population] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

// ---- 1. seeding ----------------------------------------------------------------------------

const secret = crypto.randomUUID() + crypto.randomUUID();
const shm = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "parley-pop-" });
const disk = await Deno.makeTempDir({ prefix: "parley-pop-" });
const kvPath = `${disk}/parley.kv`;
/** Conversations of each user (by user index), and every conversation's members. */
const convsOf: string[][] = Array.from({ length: U }, () => []);
const members = new Map<string, number[]>();
let tokens: string[] = [];
let seedMs = 0;

{
  const t0 = performance.now();
  const kv = await Deno.openKv(`${shm}/parley.kv`);
  const seeded = await seedUsers(kv, U, secret, 24 * 3600);
  tokens = seeded.map((s) => s.token);
  const ids = seeded.map((s) => s.userId);
  log(`${U} users in ${Math.round(performance.now() - t0)} ms`);
  // Conversations are written as createDirect and createGroup write them (the same records,
  // the member writes of `addMemberOps`), with HISTORY messages each as commitGroups writes
  // them (message, idempotency entry, head with the last message, the senders' cursors), many
  // conversations per commit, without the event log's member_added announcements, which only
  // a running server's listeners would read.
  const now = Date.now();
  let messages = 0;
  const writeConvs = async (convs: ConversationRecord[], m: number[][], perCommit: number) => {
    await pool(Math.ceil(convs.length / perCommit), 4, async (c) => {
      let op = kv.atomic();
      for (let j = c * perCommit; j < Math.min(convs.length, (c + 1) * perCommit); j++) {
        const conv = convs[j];
        const cursor = new Map<number, number>();
        let last: Message | null = null;
        for (let seq = 1; seq <= HISTORY; seq++) {
          const sender = m[j][(seq - 1) % m[j].length];
          const msg: Message = {
            id: crypto.randomUUID(),
            conversationId: conv.id,
            seq,
            senderId: ids[sender],
            kind: "text",
            body: `history ${seq}`,
            ts: now - HISTORY + seq,
            ...unchanged(seq),
          };
          last = msg;
          op = op.set(keys.message(conv.id, seq), msg)
            .set(keys.idem(conv.id, msg.id), { seq, ts: msg.ts, senderId: msg.senderId });
          cursor.set(sender, seq);
        }
        // The conversation list's index, as the message commit keeps it (lib/store/inbox.ts):
        // every member's entry at the last activity, and the members on the head.
        const memberIds = m[j].map((u) => ids[u]);
        const indexed = indexedPerMember(memberIds.length);
        op = op.set(keys.conversation(conv.id), conv).set(
          keys.head(conv.id),
          {
            seq: HISTORY,
            ts: now,
            last,
            n: HISTORY,
            ...(indexed ? { inbox: memberIds } : {}),
          } satisfies Head,
        );
        for (const id of memberIds) {
          op = indexed
            ? op.set(keys.inbox(id, now, conv.id), true)
            : op.set(keys.bigGroup(id, conv.id), true);
        }
        if (conv.pair) op = op.set(keys.direct(conv.pair[0], conv.pair[1]), conv.id);
        m[j].forEach((u, k) => {
          const role = conv.kind === "group" && k === 0 ? "owner" : "member";
          op = addMemberOps(op, conv.id, ids[u], role, {
            seq: cursor.get(u) ?? 0,
            n: cursor.get(u) ?? 0,
          }, now);
        });
        messages += HISTORY;
      }
      const res = await op.commit();
      if (!res.ok) throw new Error("seed commit failed");
    });
    convs.forEach((conv, j) => {
      members.set(conv.id, m[j]);
      for (const u of m[j]) convsOf[u].push(conv.id);
    });
  };
  // Directs: user i with i+1 … i+DIRECTS/2 (mod U): DIRECTS each.
  const pairs: number[][] = [];
  for (let i = 0; i < U; i++) {
    for (let k = 1; k <= DIRECTS / 2; k++) pairs.push([i, (i + k) % U]);
  }
  await writeConvs(
    pairs.map(([a, b]) => ({
      id: crypto.randomUUID(),
      kind: "direct",
      title: "",
      createdAt: now,
      createdBy: ids[a],
      memberCount: 2,
      pair: [ids[a], ids[b]],
    })),
    pairs,
    Math.max(1, Math.floor(900 / (11 + 2 * HISTORY))),
  );
  log(`${pairs.length} direct conversations at ${Math.round(performance.now() - t0)} ms`);
  // Groups: GROUPS layers, each a partition of the users into groups of GROUP_SIZE, by a
  // different stride so that the groups of one user mostly hold different people.
  const strides = [1, 7, 13, 17, 19, 23, 29, 31, 37, 41].filter((s) => U % s !== 0 || s === 1);
  const groups: number[][] = [];
  for (let layer = 0; layer < GROUPS; layer++) {
    const order = Array.from({ length: U }, (_, i) => (i * strides[layer % strides.length]) % U);
    for (let g = 0; g < U / GROUP_SIZE; g++) {
      groups.push(order.slice(g * GROUP_SIZE, (g + 1) * GROUP_SIZE));
    }
  }
  await writeConvs(
    groups.map((m, j) => ({
      id: crypto.randomUUID(),
      kind: "group",
      title: `group ${j}`,
      createdAt: now,
      createdBy: ids[m[0]],
      memberCount: m.length,
    })),
    groups,
    Math.max(1, Math.floor(900 / (4 * GROUP_SIZE + 2 + 2 * HISTORY))),
  );
  log(`${groups.length} groups at ${Math.round(performance.now() - t0)} ms`);
  // Sessions came with their per-user index (createSession) and the list index with each
  // conversation: the server starts as on a store it wrote, not as after an upgrade.
  await kv.set(keys.listIndexBuilt(), true);
  await kv.set(keys.userSessionsBuilt(), true);
  kv.close();
  log(`${messages} history messages; seeded in ${Math.round(performance.now() - t0)} ms`);
  for await (const f of Deno.readDir(shm)) {
    await Deno.copyFile(`${shm}/${f.name}`, `${disk}/${f.name}`);
  }
  await Deno.remove(shm, { recursive: true });
  seedMs = Math.round(performance.now() - t0);
}

// ---- 2. clients ----------------------------------------------------------------------------

interface ConvState {
  /** Seqs this client has of the conversation (from the first it should have on). */
  got: Set<number>;
  from: number;
  max: number;
}

interface Client {
  i: number;
  ws: WebSocket | null;
  ready: boolean;
  convs: Map<string, ConvState>;
  /** Sync answers still awaited on this connection. */
  syncing: number;
  /** When this connection's catch-up finished (performance.now()), or 0. */
  caughtUpAt: number;
  /** Seqs delivered live on this connection, per conversation (a repeat is a duplicate). */
  live: Map<string, Set<number>>;
  wanted: boolean;
}

let port = 0;
const clients: Client[] = [];
const deliveryBefore = new Histogram();
const deliveryCatchUp = new Histogram();
const deliveryAfter = new Histogram();
let phase: "before" | "restart" | "after" = "before";
let duplicates = 0, sent = 0, acked = 0, errors = 0, reconnects = 0;
const errorCodes: Record<string, number> = {};
/** Highest acked seq per conversation. */
const headOf = new Map<string, number>();

for (let i = 0; i < ONLINE; i++) {
  // Online users spread over the population (every 1/online-th user).
  const u = Math.floor((i * U) / ONLINE);
  const convs = new Map<string, ConvState>();
  for (const c of convsOf[u]) {
    convs.set(c, { got: new Set(), from: HISTORY - 2, max: HISTORY - 2 });
  }
  clients.push({
    i: u,
    ws: null,
    ready: false,
    convs,
    syncing: 0,
    caughtUpAt: 0,
    live: new Map(),
    wanted: true,
  });
}

function take(c: Client, convId: string, m: Message): boolean {
  const s = c.convs.get(convId);
  if (!s || m.seq <= s.from) return false;
  const fresh = !s.got.has(m.seq);
  s.got.add(m.seq);
  if (m.seq > s.max) s.max = m.seq;
  return fresh;
}

function sync(c: Client, convId: string) {
  const s = c.convs.get(convId)!;
  c.syncing++;
  c.ws!.send(JSON.stringify({
    type: "sync",
    conversationId: convId,
    afterSeq: s.max,
    limit: LIMITS.pageMax,
    reqId: convId,
  }));
}

function onFrame(c: Client, f: Record<string, unknown>) {
  switch (f.type) {
    case "ready":
      c.ready = true;
      c.live = new Map();
      for (const convId of c.convs.keys()) sync(c, convId);
      break;
    case "messages": {
      const convId = f.conversationId as string;
      const msgs = f.messages as Message[];
      for (const m of msgs) take(c, convId, m);
      if (f.hasMore) {
        c.syncing--;
        sync(c, convId);
      } else if (--c.syncing === 0 && !c.caughtUpAt) c.caughtUpAt = performance.now();
      break;
    }
    case "message": {
      const m = f.message as Message;
      let seen = c.live.get(m.conversationId);
      if (!seen) c.live.set(m.conversationId, seen = new Set());
      if (seen.has(m.seq)) duplicates++;
      seen.add(m.seq);
      take(c, m.conversationId, m);
      const t = Number(/^t:(\d+)\|/.exec(m.body ?? "")?.[1]);
      if (t) {
        const h = phase === "before"
          ? deliveryBefore
          : phase === "restart"
          ? deliveryCatchUp
          : deliveryAfter;
        h.record(Date.now() - t);
      }
      break;
    }
    case "ack": {
      acked++;
      const convId = f.conversationId as string;
      const seq = f.seq as number;
      headOf.set(convId, Math.max(headOf.get(convId) ?? 0, seq));
      // The sender's own connection is not sent its message; it has it by the ack.
      const s = c.convs.get(convId)!;
      s.got.add(seq);
      if (seq > s.max) s.max = seq;
      break;
    }
    case "error": {
      errors++;
      const code = (f.error as { code?: string })?.code ?? "?";
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      break;
    }
  }
}

function connect(c: Client) {
  const ws = new WebSocket(
    `ws://127.0.0.1:${port}/api/ws?token=${encodeURIComponent(tokens[c.i])}`,
  );
  c.ws = ws;
  c.ready = false;
  c.syncing = 0;
  c.caughtUpAt = 0;
  ws.onmessage = (e) => {
    const data = JSON.parse(String(e.data));
    if (Array.isArray(data)) { for (const f of data) onFrame(c, f); }
    else onFrame(c, data);
  };
  ws.onclose = () => {
    if (c.ws !== ws) return;
    c.ws = null;
    c.ready = false;
    if (!c.wanted) return;
    reconnects++;
    setTimeout(() => connect(c), 200 + Math.random() * 200);
  };
  ws.onerror = () => {};
}

/** Every online user sends RATE msgs/s on average to one of its conversations at random. */
function startSending(): () => void {
  const tickMs = 50;
  const perTick = (ONLINE * RATE * tickMs) / 1000;
  let carry = 0;
  const timer = setInterval(() => {
    carry += perTick;
    for (; carry >= 1; carry--) {
      const c = clients[Math.floor(Math.random() * clients.length)];
      if (!c.ready || !c.caughtUpAt || !c.ws) continue;
      const convs = [...c.convs.keys()];
      const convId = convs[Math.floor(Math.random() * convs.length)];
      sent++;
      c.ws.send(JSON.stringify({
        type: "send",
        id: crypto.randomUUID(),
        conversationId: convId,
        body: `t:${Date.now()}|population`,
      }));
    }
  }, tickMs);
  const pings = setInterval(() => {
    for (const c of clients) if (c.ready) c.ws?.send('{"type":"ping"}');
  }, 20_000);
  return () => {
    clearInterval(timer);
    clearInterval(pings);
  };
}

async function metricsCount(): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await res.text();
    const m = /^parley_kv_reads_total(?:\{[^}]*\})?\s+(\d+(?:\.\d+)?)/m.exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const waitAll = async (pred: () => boolean, timeoutMs: number) => {
  const deadline = performance.now() + timeoutMs;
  while (!pred() && performance.now() < deadline) await sleep(50);
  return pred();
};

// ---- 3. run --------------------------------------------------------------------------------

let result: Record<string, unknown> = {};
try {
  let server = await startParley(undefined, kvPath, secret);
  port = server.port;
  const tc = performance.now();
  for (let i = 0; i < clients.length; i += 200) {
    clients.slice(i, i + 200).forEach(connect);
    await waitAll(() => clients.slice(i, i + 200).every((c) => c.caughtUpAt), 60_000);
  }
  const firstConnectMs = Math.round(performance.now() - tc);
  log(`${ONLINE} clients connected and caught up in ${firstConnectMs} ms`);
  const stopSending = startSending();
  await sleep(Number(values.before) * 1000);

  // Restart.
  phase = "restart";
  log("restarting the server");
  const t0 = performance.now();
  await stop(server.proc);
  const down = performance.now();
  server = await startParley(undefined, kvPath, secret, { port });
  port = server.port;
  const healthy = performance.now();
  const cpuAtHealthy = cpuSeconds(server.proc.pid);
  const all = await waitAll(() => clients.every((c) => c.caughtUpAt > down), 120_000);
  const done = performance.now();
  const cpuAtDone = cpuSeconds(server.proc.pid);
  await sleep(6000); // the isolates' metrics snapshot (every METRICS_INTERVAL_MS, 5 s)
  const kvOps = await metricsCount();
  phase = "after";
  const caughtUp = clients.filter((c) => c.caughtUpAt > down).length;
  log(`${caughtUp}/${ONLINE} caught up ${Math.round(done - down)} ms after the old server exited`);
  await sleep(Number(values.after) * 1000);
  stopSending();
  await sleep(3000); // the last answers and deliveries

  // Every client must have every seq of its conversations from where it started to the head.
  let lost = 0, expected = 0;
  for (const c of clients) {
    for (const [convId, s] of c.convs) {
      const head = Math.max(HISTORY, headOf.get(convId) ?? 0);
      for (let seq = s.from + 1; seq <= head; seq++) {
        expected++;
        if (!s.got.has(seq)) lost++;
      }
    }
  }
  const per = (n: number | null) => (n === null ? null : Math.round((n / ONLINE) * 10) / 10);
  result = {
    scenario: "population",
    params: {
      users: U,
      directs: DIRECTS,
      groups: GROUPS,
      groupSize: GROUP_SIZE,
      history: HISTORY,
      online: ONLINE,
      ratePerUser: RATE,
    },
    conversations: members.size,
    firstConnectMs,
    restart: {
      stopMs: Math.round(down - t0),
      allCaughtUp: all,
      caughtUp,
      catchUpMsFromExit: Math.round(done - down),
      catchUpMsFromHealthy: Math.round(done - healthy),
      reconnects,
      kvReadsPerReconnect: per(kvOps),
      // Server CPU from its first healthy answer to the last client's catch-up, per client:
      // on a loaded machine the time above is mostly waiting for a core; this is not.
      serverCpuMsPerReconnect: cpuAtHealthy === null || cpuAtDone === null
        ? null
        : Math.round(((cpuAtDone - cpuAtHealthy) * 1000 / ONLINE) * 10) / 10,
    },
    sent,
    acked,
    errors: errorCodes,
    expectedSeqs: expected,
    lost,
    duplicates,
    deliveryMs: {
      before: deliveryBefore.summary(),
      duringCatchUp: deliveryCatchUp.summary(),
      after: deliveryAfter.summary(),
    },
    seedMs,
  };
  for (const c of clients) {
    c.wanted = false;
    c.ws?.close();
  }
  await stop(server.proc);
} finally {
  await stopAll();
  await Deno.remove(disk, { recursive: true }).catch(() => {});
}
const r = result as {
  restart: Record<string, unknown>;
  deliveryMs: Record<string, { p50: number; p99: number }>;
};
console.log(
  `population: ${U} users, ${members.size} conversations, ${ONLINE} online; after the restart ` +
    `${r.restart.caughtUp}/${ONLINE} caught up in ${r.restart.catchUpMsFromExit} ms ` +
    `(${r.restart.catchUpMsFromHealthy} ms after healthy), ${r.restart.kvReadsPerReconnect} KV reads and ` +
    `${r.restart.serverCpuMsPerReconnect} ms of server CPU per reconnect; delivery p99 before/catch-up/after ${r.deliveryMs.before.p99}/` +
    `${r.deliveryMs.duringCatchUp.p99}/${r.deliveryMs.after.p99} ms; lost ${result.lost}, ` +
    `duplicated ${result.duplicates}`,
);
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
