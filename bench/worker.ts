/**
 * One generator process: holds its share of the WebSocket clients, sends on the parent's
 * schedule, and counts what arrives. Started by bench/main.ts; speaks bench/wire.ts over
 * stdin/stdout. It exits when stdin closes (the parent is gone) or its lifetime runs out.
 * @module
 */
import { isEditableBody, PhaseChanges, SenderMix } from "./changes.ts";
import { Histogram } from "./histogram.ts";
import { lines } from "./proc.ts";
import { type FrameSink, type MessageFields, scanFrames } from "./scan.ts";
import { SeqCounts, SeqSet } from "./seqs.ts";
import {
  type ClientSpec,
  type Cmd,
  type Ev,
  type InitCmd,
  now,
  type PhaseCmd,
  type PhaseStats,
} from "./wire.ts";

const enc = new TextEncoder();
let workerIndex = -1;

async function emit(ev: Ev) {
  const data = enc.encode(JSON.stringify(ev) + "\n");
  let off = 0;
  while (off < data.length) off += await Deno.stdout.write(data.subarray(off));
}

interface Client {
  spec: ClientSpec;
  ws: WebSocket | null;
  ready: boolean;
  /** From the `ready` frame: a delivery with this sender is an echo. */
  userId: string;
  lastSentAt: number;
  /** Per conversation of the current phase: the seqs this client has seen, and the phase's
   * counts for it; `last` is the one used last (clients here are in one conversation each). */
  seen: Map<string, Tally>;
  last: Tally | null;
}

interface Tally {
  conv: string;
  seen: SeqSet;
  counts: SeqCounts;
}

/** Everything counted for the running phase. */
class Phase {
  /** conversation → seq → distinct receiving clients (echoes excluded). */
  recv = new Map<string, SeqCounts>();
  /** id → [sender gi, send time] until answered. */
  pending = new Map<string, [number, number]>();
  ackLatency = new Histogram();
  deliveryLatency = new Histogram();
  acks: [string, string][] = [];
  errors: Record<string, number> = {};
  sent = 0;
  deliveries = 0;
  deliveriesInWindow = 0;
  duplicates = 0;
  echoes = 0;
  lastEventAt = 0;
  /** With `cmd.mark`: the phase's edits and reactions (bench/changes.ts). */
  changes: PhaseChanges | null;
  constructor(readonly cmd: PhaseCmd) {
    this.changes = cmd.mark ? new PhaseChanges(cmd.phase, cmd.pad) : null;
  }
}

let clients: Client[] = [];
let phase: Phase | null = null;
let late = 0;
let closes: Record<string, number> = {};
let otherFrames: Record<string, number> = {};
let maxBatch = 0;
let batches = 0;
/** Per sending client (by gi): its mix of messages and changes, across phases. */
const mixes = new Map<number, SenderMix>();

/** How a message is known across workers and in the report: its conversation and seq. */
const key = (conversationId: string, seq: number) => `${conversationId}#${seq}`;

function onDelivery(c: Client, message: MessageFields, t: number) {
  const body = message.body;
  // Bench bodies are "t:<epoch ms>|p:<phase>|...".
  if (!body.startsWith("t:")) {
    otherFrames["message_foreign"] = (otherFrames["message_foreign"] ?? 0) + 1;
    return;
  }
  const bar = body.indexOf("|p:");
  const sentAt = Number(body.slice(2, bar));
  const p = parseInt(body.slice(bar + 3), 10);
  const ph = phase;
  if (!ph || ph.cmd.phase !== p) {
    late++;
    return;
  }
  ph.deliveries++;
  ph.lastEventAt = t;
  if (t <= ph.cmd.startAt + ph.cmd.durationMs) ph.deliveriesInWindow++;
  ph.deliveryLatency.record(t - sentAt);
  if (message.senderId === c.userId) {
    ph.echoes++;
    return;
  }
  ph.changes?.noteMessage(message.conversationId, message.seq, body);
  tally(c, ph, message.conversationId, message.seq);
}

/** Counts stream position `seq` of `conv` as received by `c` (once; again is a duplicate). */
function tally(c: Client, ph: Phase, conv: string, seq: number) {
  let tally = c.last;
  if (tally?.conv !== conv) {
    tally = c.seen.get(conv) ?? null;
    if (!tally) {
      let counts = ph.recv.get(conv);
      if (!counts) ph.recv.set(conv, counts = new SeqCounts());
      c.seen.set(conv, tally = { conv, seen: new SeqSet(), counts });
    }
    c.last = tally;
  }
  if (!tally.seen.add(seq)) {
    ph.duplicates++;
    return;
  }
  tally.counts.add(seq);
}

/** An `update` (a change) arrived at `c`: counted with messages by position, timed by kind. */
// deno-lint-ignore no-explicit-any
function onUpdate(c: Client, f: any, t: number) {
  const m = f.message;
  const body = typeof m?.body === "string" ? m.body : "";
  if (!body.startsWith("t:") || typeof f.seq !== "number") {
    otherFrames["update_foreign"] = (otherFrames["update_foreign"] ?? 0) + 1;
    return;
  }
  const bar = body.indexOf("|p:");
  const ph = phase;
  if (!ph?.changes || ph.cmd.phase !== parseInt(body.slice(bar + 3), 10)) {
    late++;
    return;
  }
  ph.lastEventAt = t;
  const conv = String(f.conversationId);
  ph.changes.onUpdate(
    key(conv, f.seq),
    body,
    Number(body.slice(2, bar)),
    t,
    t <= ph.cmd.startAt + ph.cmd.durationMs,
  );
  // Only its sender edits a message: an edit's update at the sender's own connection is an echo.
  if (m.senderId === c.userId && isEditableBody(body)) {
    ph.echoes++;
    return;
  }
  tally(c, ph, conv, f.seq);
}

// deno-lint-ignore no-explicit-any
function onFrame(f: any, t: number, c: Client) {
  switch (f?.type) {
    case "message":
      otherFrames["message_malformed"] = (otherFrames["message_malformed"] ?? 0) + 1;
      return;
    case "update":
      return onUpdate(c, f, t);
    case "ack": {
      const ph = phase;
      const p = ph?.pending.get(f.id);
      if (ph?.changes?.onAck(f, t)) return void (ph.lastEventAt = t);
      if (!ph || !p) return void late++;
      ph.pending.delete(f.id);
      ph.changes?.noteMessageAck(f.id, f.seq);
      ph.ackLatency.record(t - p[1]);
      ph.acks.push([key(f.conversationId, f.seq), f.conversationId]);
      ph.lastEventAt = t;
      return;
    }
    case "error": {
      const code = f.error?.code ?? "unknown";
      const ph = phase;
      if (ph && typeof f.id === "string" && ph.pending.delete(f.id)) {
        ph.errors[code] = (ph.errors[code] ?? 0) + 1;
        ph.lastEventAt = t;
        ph.changes?.forgetMessage(f.id);
      } else if (ph?.changes && typeof f.id === "string" && ph.changes.onError(f.id, code)) {
        ph.lastEventAt = t;
      } else {
        otherFrames[`error_${code}`] = (otherFrames[`error_${code}`] ?? 0) + 1;
      }
      return;
    }
    default:
      otherFrames[f?.type ?? "?"] = (otherFrames[f?.type ?? "?"] ?? 0) + 1;
  }
}

/** One sink per client, made once: the hot path allocates no closures. */
function sinkFor(c: Client): { sink: FrameSink; at: (t: number) => void } {
  let t = 0;
  return {
    sink: {
      message: (m) => onDelivery(c, m, t),
      other: (f) => onFrame(f, t, c),
    },
    at: (now) => void (t = now),
  };
}

function onData(reader: ReturnType<typeof sinkFor>, data: unknown) {
  const t = now();
  if (typeof data !== "string") return;
  reader.at(t);
  const n = scanFrames(data, reader.sink);
  if (n < 0) {
    otherFrames["unparsable"] = (otherFrames["unparsable"] ?? 0) + 1;
  } else if (data.charCodeAt(0) === 91) {
    batches++;
    if (n > maxBatch) maxBatch = n;
  }
}

function connect(c: Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(c.spec.url);
    c.ws = ws;
    const timer = setTimeout(() => {
      reject(new Error("no ready frame in time"));
      try {
        ws.close();
      } catch { /* ignore */ }
    }, timeoutMs);
    ws.onmessage = (e) => {
      if (!c.ready) {
        // The first frame must be `ready`; after that, everything goes through onData.
        try {
          const f = JSON.parse(e.data);
          const first = Array.isArray(f) ? f[0] : f;
          if (first?.type === "ready") {
            c.ready = true;
            c.userId = String(first.userId ?? "");
            c.lastSentAt = now();
            clearTimeout(timer);
            resolve();
            const reader = sinkFor(c);
            if (Array.isArray(f)) {
              reader.at(now());
              for (const g of f.slice(1)) {
                if (g?.type === "message") scanFrames(JSON.stringify(g), reader.sink);
                else reader.sink.other(g);
              }
            }
            ws.onmessage = (ev) => onData(reader, ev.data);
            return;
          }
        } catch { /* fall through */ }
        otherFrames["before_ready"] = (otherFrames["before_ready"] ?? 0) + 1;
      }
    };
    ws.onclose = (e) => {
      if (!c.ready) {
        clearTimeout(timer);
        reject(new Error(`closed before ready: ${e.code} ${e.reason}`));
      } else {
        closes[String(e.code)] = (closes[String(e.code)] ?? 0) + 1;
      }
      c.ready = false;
    };
    ws.onerror = () => {};
  });
}

async function init(cmd: InitCmd) {
  workerIndex = cmd.workerIndex;
  setTimeout(() => Deno.exit(3), cmd.lifetimeMs);
  clients = cmd.clients.map((spec) => ({
    spec,
    ws: null,
    ready: false,
    lastSentAt: 0,
    userId: "",
    seen: new Map(),
    last: null,
  }));
  const t0 = performance.now();
  const failed: number[] = [];
  let errorSample: string | null = null;
  let next = 0;
  const lane = async () => {
    while (next < clients.length) {
      const c = clients[next++];
      try {
        await connect(c, cmd.readyTimeoutMs);
      } catch (err) {
        failed.push(c.spec.gi);
        errorSample ??= String((err as Error).message ?? err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.connectConcurrency) }, lane));
  // Heartbeat: the contract wants a frame at least every 25 s from each client.
  setInterval(() => {
    const t = now();
    for (const c of clients) {
      if (c.ready && t - c.lastSentAt > cmd.pingIdleMs) {
        c.ws!.send('{"type":"ping"}');
        c.lastSentAt = t;
      }
    }
  }, 1000);
  await emit({
    ev: "connected",
    workerIndex,
    ok: clients.length - failed.length,
    failed,
    ms: Math.round(performance.now() - t0),
    errorSample,
  });
}

async function runPhase(cmd: PhaseCmd) {
  for (const c of clients) {
    c.seen = new Map();
    c.last = null;
  }
  const ph = new Phase(cmd);
  phase = ph;
  const byGi = new Map(clients.map((c) => [c.spec.gi, c]));
  const senders = cmd.senders.flatMap((s) => {
    const c = byGi.get(s.gi);
    if (!c || s.rate <= 0) return [];
    let mix = mixes.get(s.gi);
    if (!mix) mixes.set(s.gi, mix = new SenderMix(s.gi));
    mix.reset();
    return [{ c, conv: s.conv, interval: 1000 / s.rate, nextAt: cmd.startAt + s.offsetMs, mix }];
  });
  const changes = ph.changes;
  const fraction = cmd.changes ?? 0;
  const end = cmd.startAt + cmd.durationMs;
  const loopLag = new Histogram();
  let expectAt = 0;
  const lagTimer = setInterval(() => {
    const t = now();
    if (expectAt && t >= cmd.startAt && t <= end) loopLag.record(Math.max(0, t - expectAt));
    expectAt = t + 10;
  }, 10);
  const prefix = `|p:${cmd.phase}|${cmd.pad}`;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = now();
      let earliest = end;
      for (const s of senders) {
        while (s.nextAt <= t && s.nextAt < end) {
          s.nextAt += s.interval;
          if (!s.c.ready) continue;
          const id = crypto.randomUUID();
          const sentAt = now();
          s.c.lastSentAt = sentAt;
          let body = `t:${sentAt}${prefix}`;
          if (changes) {
            const kind = s.mix.next(fraction);
            const change = kind === "message"
              ? null
              : changes.frame(kind, s.mix, s.c.userId, s.conv, id, sentAt);
            if (change) {
              s.c.ws!.send(change);
              continue;
            }
            body = changes.messageBody(s.mix, id, sentAt);
          }
          s.c.ws!.send(
            `{"type":"send","id":"${id}","conversationId":"${s.conv}","body":"${body}"}`,
          );
          ph.pending.set(id, [s.c.spec.gi, sentAt]);
          ph.sent++;
        }
        if (s.nextAt < earliest) earliest = s.nextAt;
      }
      if (t >= end) return resolve();
      // Sleep until the next send is due (at least 1 ms, at most 5 ms between looks).
      setTimeout(tick, Math.max(1, Math.min(5, earliest - now())));
    };
    setTimeout(tick, Math.max(0, cmd.startAt - now()));
  });
  // Drain: wait for answers and stragglers until quiet, within bounds.
  const hardEnd = end + cmd.drainMaxMs;
  while (true) {
    const t = now();
    if (t >= hardEnd) break;
    const waiting = ph.pending.size + (ph.changes?.pending.size ?? 0);
    if (waiting === 0 && t - Math.max(ph.lastEventAt, end) >= cmd.quietMs) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  clearInterval(lagTimer);
  phase = null;
  const received: [string, number][] = [];
  for (const [conv, counts] of ph.recv) {
    for (const [seq, n] of counts.entries()) received.push([key(conv, seq), n]);
  }
  const stats: PhaseStats = {
    phase: cmd.phase,
    windowStart: cmd.startAt,
    windowEnd: end,
    sent: ph.sent,
    acked: ph.acks.length,
    unanswered: ph.pending.size,
    errors: ph.errors,
    ackLatency: ph.ackLatency.toJSON(),
    deliveryLatency: ph.deliveryLatency.toJSON(),
    deliveries: ph.deliveries,
    deliveriesInWindow: ph.deliveriesInWindow,
    duplicates: ph.duplicates,
    echoes: ph.echoes,
    late,
    acks: ph.acks,
    received,
    closes,
    otherFrames,
    loopLag: loopLag.toJSON(),
    maxBatch,
    batches,
    lastEventAt: ph.lastEventAt,
    ...(ph.changes ? { changes: ph.changes.toJSON(senders.map((s) => s.mix)) } : {}),
  };
  late = 0;
  closes = {};
  otherFrames = {};
  maxBatch = 0;
  batches = 0;
  await emit({ ev: "phase", workerIndex, stats });
}

async function closeAll() {
  const closed = clients.map((c) =>
    new Promise<void>((resolve) => {
      if (!c.ws || c.ws.readyState === WebSocket.CLOSED) return resolve();
      c.ws.addEventListener("close", () => resolve());
      try {
        c.ws.close(1000, "bench done");
      } catch {
        resolve();
      }
    })
  );
  await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 3000))]);
  await emit({ ev: "closed", workerIndex });
  Deno.exit(0);
}

try {
  for await (const line of lines(Deno.stdin.readable)) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line) as Cmd;
    if (cmd.cmd === "init") await init(cmd);
    else if (cmd.cmd === "phase") await runPhase(cmd);
    else if (cmd.cmd === "close") await closeAll();
  }
} catch (err) {
  await emit({ ev: "fatal", workerIndex, message: String((err as Error)?.stack ?? err) });
}
// stdin closed: the parent is gone.
Deno.exit(0);
