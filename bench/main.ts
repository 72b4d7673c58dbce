// deno-lint-ignore-file no-console
/**
 * `deno task bench`: the load generator. Starts the server(s) under test itself on 127.0.0.1,
 * seeds them, spreads WebSocket clients over worker processes, runs the scenario, and prints a
 * table and one `BENCH_JSON {...}` line per target. Every run is bounded by a watchdog and
 * stops exactly the processes it started. See docs/benchmarks.md and `--help`.
 * @module
 */
import { Histogram, type Percentiles } from "./histogram.ts";
import { drainMaxSec, type Options, parseOptions, type TargetName, USAGE } from "./options.ts";
import {
  type CpuMark,
  cpuMark,
  cpuPercent,
  hostMark,
  killAllNow,
  lines,
  machine,
  type Owned,
  rssBytes,
  spawn,
  stop,
  stopAll,
  taskset,
  threadCpuPercent,
  threadCpuSeconds,
} from "./proc.ts";
import {
  pct,
  PHASE_HEADER,
  phaseRows,
  type PhaseSummary,
  type ProcessUse,
  summarize,
  table,
} from "./report.ts";
import { type SeededUser, seedHistory, seedUsers } from "./seed.ts";
import { runAttachments } from "./attachments.ts";
import { changesTable, compareRuns, comparisonText, type RunFigures } from "./changes.ts";
import { api, ROOT, type Server, startBaseline, startParley } from "./targets.ts";
import {
  type ClientSpec,
  type Cmd,
  type ConnectedEv,
  type Ev,
  now,
  type PhaseEv,
  type SenderSpec,
} from "./wire.ts";

let opts: Options;
try {
  const parsed = parseOptions(Deno.args);
  if (parsed.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  opts = parsed;
} catch (err) {
  console.error(`bench: ${(err as Error).message}\n\n${USAGE}`);
  Deno.exit(2);
}

const log = (...args: unknown[]) => {
  if (!opts.jsonOnly) console.error("[bench]", ...args);
};
const out = (text: string) => {
  if (!opts.jsonOnly) console.log(text);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number | null) => (b === null ? null : Math.round((b / 1048576) * 10) / 10);

const pinning = opts.pin && taskset() !== null && navigator.hardwareConcurrency >= 2;
const SERVER_CORE = pinning ? 0 : undefined;
const GEN_CORE = pinning ? 1 : undefined;
const tempDirs: string[] = [];

function cleanupTemp() {
  for (const d of tempDirs.splice(0)) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch { /* already gone */ }
  }
}

// Hard bound: whatever happens, the run ends and takes its processes with it.
const watchdog = setTimeout(() => {
  console.error(`[bench] overall timeout of ${opts.timeout} s reached: stopping everything`);
  killAllNow();
  cleanupTemp();
  Deno.exit(3);
}, opts.timeout * 1000);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, () => {
    console.error(`[bench] ${sig}: stopping the processes this run started`);
    killAllNow();
    cleanupTemp();
    Deno.exit(130);
  });
}

/** A generator child process and its event stream. */
class Worker {
  #queue: Ev[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(readonly index: number, readonly proc: Owned) {
    this.#writer = proc.child.stdin.getWriter();
    (async () => {
      try {
        for await (const line of lines(proc.child.stdout)) {
          if (!line.trim()) continue;
          this.#queue.push(JSON.parse(line));
          this.#wake?.();
        }
      } catch { /* stream broke: the process is gone */ }
      this.#ended = true;
      this.#wake?.();
    })();
  }

  async send(cmd: Cmd): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"));
  }

  /** The next event of type `ev`; throws on timeout, on a fatal event, or when the worker died. */
  async next<E extends Ev>(ev: E["ev"], timeoutMs: number): Promise<E> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.#queue.findIndex((e) => e.ev === ev || e.ev === "fatal");
      if (i >= 0) {
        const e = this.#queue.splice(i, 1)[0];
        if (e.ev === "fatal") throw new Error(`worker ${this.index} failed: ${e.message}`);
        return e as E;
      }
      if (this.#ended) throw new Error(`worker ${this.index} exited (waiting for ${ev})`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`worker ${this.index}: no ${ev} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          this.#wake = null;
          resolve();
        };
      });
    }
  }

  async shutdown(): Promise<void> {
    if (!this.proc.done) {
      try {
        await this.send({ cmd: "close" });
        await this.next("closed", 8000);
        // It exits by itself right after (writing a --cpu-prof profile on the way out).
        await Promise.race([this.proc.exited, new Promise((r) => setTimeout(r, 5000))]);
      } catch { /* stopped below anyway */ }
    }
    try {
      await this.#writer.close();
    } catch { /* already closed */ }
    await stop(this.proc);
  }
}

function startWorkers(n: number): Worker[] {
  return Array.from({ length: n }, (_, i) =>
    new Worker(
      i,
      spawn(`worker-${i}`, Deno.execPath(), [
        "run",
        "-A",
        ...opts.workerFlags,
        `${ROOT}/bench/worker.ts`,
      ], {
        core: GEN_CORE,
        cwd: ROOT,
        pipeStdin: true,
        readStdout: true,
      }),
    ));
}

/** What a target's set-up produced: the clients to open and who is in which conversation. */
interface Plan {
  clients: ClientSpec[];
  /** Per client: the conversation it sends to (fanout: the group; direct: its pair). */
  sendConv: string[];
}

interface Connected {
  requested: number;
  ok: number;
  failed: number;
  ms: number;
  perSec: number;
  errorSample: string | null;
  failedGis: Set<number>;
}

async function connectAll(workers: Worker[], plan: Plan): Promise<Connected> {
  const lifetimeMs = opts.timeout * 1000 + 10_000;
  const share = workers.map(() => [] as ClientSpec[]);
  plan.clients.forEach((c, i) => share[i % workers.length].push(c));
  const readyTimeoutMs = 30_000;
  await Promise.all(workers.map((w, i) =>
    w.send({
      cmd: "init",
      workerIndex: i,
      clients: share[i],
      connectConcurrency: opts.connectConcurrency,
      readyTimeoutMs,
      lifetimeMs,
      pingIdleMs: 20_000,
    })
  ));
  const bound = readyTimeoutMs +
    Math.ceil(plan.clients.length / workers.length / opts.connectConcurrency) * 5000 + 30_000;
  const evs = await Promise.all(workers.map((w) => w.next<ConnectedEv>("connected", bound)));
  const failedGis = new Set(evs.flatMap((e) => e.failed));
  const ms = Math.max(...evs.map((e) => e.ms));
  const ok = evs.reduce((a, e) => a + e.ok, 0);
  return {
    requested: plan.clients.length,
    ok,
    failed: failedGis.size,
    ms,
    perSec: Math.round(ok / Math.max(ms / 1000, 0.001)),
    errorSample: evs.find((e) => e.errorSample)?.errorSample ?? null,
    failedGis,
  };
}

/** Samples the server's RSS while a phase runs, keeping the peak. */
function rssSampler(pid: number) {
  let peak = rssBytes(pid) ?? 0;
  const t = setInterval(() => {
    const v = rssBytes(pid);
    if (v !== null && v > peak) peak = v;
  }, 250);
  return {
    stop: () => {
      clearInterval(t);
      const v = rssBytes(pid);
      if (v !== null && v > peak) peak = v;
      return { peak, last: v };
    },
  };
}

/** Runs one send phase on every worker and summarizes it. */
async function runPhase(
  step: number,
  server: Server,
  workers: Worker[],
  senders: SenderSpec[],
  rate: number,
  members: Map<string, number>,
  changes = 0,
): Promise<PhaseSummary> {
  const durationMs = opts.duration * 1000;
  const drainMaxMs = drainMaxSec(opts.duration) * 1000;
  const startAt = now() + 500;
  const pad = "x".repeat(opts.bodyBytes);
  const bySender = workers.map(() => [] as SenderSpec[]);
  const workerOfGi = new Map<number, number>();
  // Clients were dealt round-robin: client gi lives in worker gi % W.
  for (const s of senders) {
    const w = s.gi % workers.length;
    workerOfGi.set(s.gi, w);
    bySender[w].push(s);
  }
  await Promise.all(workers.map((w, i) =>
    w.send({
      cmd: "phase",
      phase: step,
      startAt,
      durationMs,
      drainMaxMs,
      quietMs: 1000,
      senders: bySender[i],
      pad,
      changes,
      mark: opts.changes > 0,
    })
  ));
  const marks: { start?: CpuMark[]; end?: CpuMark[] } = {};
  // Server, workers, this process, and last the whole machine (to see other load on it).
  const pids = [server.proc.pid, ...workers.map((w) => w.proc.pid), Deno.pid];
  const mark = () => [...pids.map(cpuMark), hostMark()];
  const threads: { start?: Map<string, number>; end?: Map<string, number> } = {};
  const sampler = rssSampler(server.proc.pid);
  const t1 = setTimeout(() => {
    marks.start = mark();
    threads.start = threadCpuSeconds(server.proc.pid);
  }, Math.max(0, startAt - now()));
  const t2 = setTimeout(() => {
    marks.end = mark();
    threads.end = threadCpuSeconds(server.proc.pid);
  }, Math.max(0, startAt + durationMs - now()));
  let evs: PhaseEv[];
  try {
    evs = await Promise.all(
      workers.map((w) => w.next<PhaseEv>("phase", durationMs + drainMaxMs + 20_000)),
    );
  } finally {
    clearTimeout(t1);
    clearTimeout(t2);
  }
  // CPU from the window's start until every answer came (the drain): a server that fell behind
  // does part of the window's work after it, which the window's CPU% leaves out.
  const drained = cpuMark(server.proc.pid);
  const rss = sampler.stop();
  const cpu = (i: number) =>
    marks.start && marks.end ? cpuPercent(marks.start[i], marks.end[i]) : null;
  const generator: ProcessUse[] = workers.map((w, i) => ({
    pid: w.proc.pid,
    cpuPct: cpu(i + 1),
    rssMb: mb(rssBytes(w.proc.pid)),
  }));
  const hostCpuPct = cpu(pids.length);
  const ours = pids.map((_, i) => cpu(i) ?? 0).reduce((a, b) => a + b, 0);
  return summarize(step, evs.map((e) => e.stats), members, {
    rate,
    senders: senders.length,
    durationS: opts.duration,
    changes,
  }, {
    hostCpuPct,
    otherCpuPct: hostCpuPct === null
      ? null
      : Math.max(0, Math.round((hostCpuPct - ours) * 10) / 10),
    serverCpuPct: cpu(0),
    serverRssMb: mb(rss.last),
    serverRssPeakMb: mb(rss.peak),
    serverCpuSecondsToDrain: marks.start && marks.start[0].cpu !== null && drained.cpu !== null
      ? Math.round((drained.cpu - marks.start[0].cpu) * 100) / 100
      : null,
    serverThreadsCpuPct: threads.start && threads.end && marks.start && marks.end
      ? threadCpuPercent(
        threads.start,
        threads.end,
        (marks.end[0].wall - marks.start[0].wall) / 1000,
      )
      : null,
    generator,
  });
}

/** Senders for one phase at total `rate`. */
function sendersFor(plan: Plan, rate: number, failed: Set<number>, ramp: boolean): SenderSpec[] {
  const live = plan.clients.filter((c) => !failed.has(c.gi));
  if (opts.scenario === "direct") {
    const r = rate / plan.clients.length;
    return live.map((c) => ({
      gi: c.gi,
      conv: plan.sendConv[c.gi],
      rate: r,
      offsetMs: Math.random() * (1000 / r),
    }));
  }
  // fanout: S senders spread evenly over the clients (hence over the workers); when ramping
  // past what S senders may send under the per-user rate limit, more clients send.
  let n = opts.senders;
  if (ramp) n = Math.max(n, Math.ceil(rate / opts.maxSenderRate));
  n = Math.min(n, live.length);
  const r = rate / n;
  return Array.from({ length: n }, (_, j) => {
    const c = live[Math.floor((j * live.length) / n)];
    return { gi: c.gi, conv: plan.sendConv[c.gi], rate: r, offsetMs: (j / n) * (1000 / r) };
  });
}

// --- set-up per target -------------------------------------------------------------------

async function seedParley(kvPath: string, secret: string, users: number, history: number) {
  const kv = await Deno.openKv(kvPath);
  try {
    const t0 = performance.now();
    const seeded = users ? await seedUsers(kv, users, secret, 24 * 3600) : [];
    log(`seeded ${seeded.length} users in ${Math.round(performance.now() - t0)} ms`);
    let historyConv: string | null = null;
    if (history) {
      const t1 = performance.now();
      historyConv = await seedHistory(kv, seeded[0].userId, history, (done) => {
        if (done % 100_000 < 250) log(`  history: ${done} messages written`);
      });
      log(`seeded ${history} messages in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    }
    return { users: seeded, historyConv, seedMs: Math.round(performance.now() - t0) };
  } finally {
    kv.close();
  }
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function planParley(server: Server, users: SeededUser[]): Promise<Plan> {
  const url = (u: SeededUser) => `${server.ws}?token=${encodeURIComponent(u.token)}`;
  if (opts.scenario === "fanout") {
    const res = await api<{ conversation: { id: string } }>(
      server.http,
      users[0].token,
      "POST",
      "/api/conversations",
      { kind: "group", title: "bench fanout", memberIds: users.slice(1).map((u) => u.userId) },
    );
    const conv = res.conversation.id;
    return {
      clients: users.map((u, gi) => ({ gi, url: url(u), convs: [conv] })),
      sendConv: users.map(() => conv),
    };
  }
  if (opts.scenario === "direct") {
    const convs: string[] = [];
    await pool(users.length / 2, 16, async (p) => {
      const res = await api<{ conversation: { id: string } }>(
        server.http,
        users[2 * p].token,
        "POST",
        "/api/conversations",
        { kind: "direct", userId: users[2 * p + 1].userId },
      );
      convs[p] = res.conversation.id;
    });
    const sendConv = users.map((_, gi) => convs[gi >> 1]);
    return {
      clients: users.map((u, gi) => ({ gi, url: url(u), convs: [sendConv[gi]] })),
      sendConv,
    };
  }
  return { clients: users.map((u, gi) => ({ gi, url: url(u), convs: [] })), sendConv: [] };
}

function planBaseline(server: Server, count: number): Plan {
  const conv = (gi: number) =>
    opts.scenario === "fanout" ? "g0" : opts.scenario === "direct" ? `d${gi >> 1}` : "none";
  const clients = Array.from({ length: count }, (_, gi) => ({
    gi,
    url: `${server.ws}?token=u${gi}&conv=${conv(gi)}`,
    convs: opts.scenario === "idle" ? [] : [conv(gi)],
  }));
  return { clients, sendConv: clients.map((c) => c.convs[0] ?? "") };
}

function membersOf(plan: Plan, failed: Set<number>): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of plan.clients) {
    if (failed.has(c.gi)) continue;
    for (const conv of c.convs) m.set(conv, (m.get(conv) ?? 0) + 1);
  }
  return m;
}

// --- scenarios ---------------------------------------------------------------------------

// deno-lint-ignore no-explicit-any
type Result = Record<string, any>;

async function runTarget(target: TargetName, changes = 0): Promise<Result> {
  const base: Result = {
    scenario: opts.scenario,
    target,
    machine: machine(),
    pinned: pinning,
    params: {
      clients: opts.clients,
      senders: opts.senders,
      rate: opts.rate,
      duration: opts.duration,
      ramp: opts.ramp,
      conns: opts.conns,
      workers: opts.workers,
      bodyBytes: opts.bodyBytes,
      parallel: opts.parallel,
      serverFlags: opts.serverFlags,
      changes,
    },
    ...(opts.changes > 0 ? { run: changes ? "mixed" : "text-only" } : {}),
    warnings: [] as string[],
  };
  if (opts.scenario === "history" && target === "baseline") {
    return { ...base, skipped: "the baseline has no storage, so no history" };
  }
  const wsCount = opts.scenario === "idle"
    ? opts.conns
    : opts.scenario === "history"
    ? 0
    : opts.clients;

  let server: Server | null = null;
  let workers: Worker[] = [];
  try {
    let plan: Plan;
    let historyConv: string | null = null;
    let historyToken = "";
    if (target === "parley") {
      for (const f of ["main.ts"]) {
        try {
          Deno.statSync(`${ROOT}/${f}`);
        } catch {
          throw new Error(`${f} does not exist yet: Parley cannot be started`);
        }
      }
      const dir = await Deno.makeTempDir({ prefix: "parley-bench-" });
      tempDirs.push(dir);
      const kvPath = `${dir}/bench.kv`;
      const secret = crypto.randomUUID() + crypto.randomUUID();
      const history = opts.scenario === "history" ? opts.messages : 0;
      const seeded = await seedParley(kvPath, secret, Math.max(1, wsCount), history);
      base.seedMs = seeded.seedMs;
      historyConv = seeded.historyConv;
      historyToken = seeded.users[0].token;
      server = await startParley(SERVER_CORE, kvPath, secret, {
        parallel: opts.parallel,
        flags: opts.serverFlags,
      });
      log(`parley up on ${server.http} (pid ${server.proc.pid})`);
      plan = await planParley(server, wsCount ? seeded.users : []);
    } else {
      server = await startBaseline(SERVER_CORE);
      log(`baseline up on ${server.http} (pid ${server.proc.pid})`);
      plan = planBaseline(server, wsCount);
    }
    base.server = { pid: server.proc.pid, port: server.port };

    if (opts.scenario === "history") {
      return { ...base, ...(await runHistory(server, historyConv!, historyToken)) };
    }

    await sleep(500);
    const rssBefore = rssBytes(server.proc.pid);
    workers = startWorkers(Math.min(opts.workers, plan.clients.length));
    log(`connecting ${plan.clients.length} clients over ${workers.length} worker(s)...`);
    const conn = await connectAll(workers, plan);
    const { failedGis, ...connect } = conn;
    base.connect = connect;
    log(
      `connected ${conn.ok}/${conn.requested} in ${conn.ms} ms` +
        (conn.failed ? ` (${conn.failed} failed: ${conn.errorSample})` : ""),
    );
    if (conn.ok === 0) throw new Error(`no client could connect: ${conn.errorSample}`);
    if (conn.failed) base.warnings.push(`${conn.failed} connections failed: ${conn.errorSample}`);
    // Let connect-time traffic (presence, etc.) settle before measuring.
    await sleep(1000 + Math.min(4000, plan.clients.length));
    const rssConnected = rssBytes(server.proc.pid);

    if (opts.scenario === "idle") {
      const members = membersOf(plan, failedGis);
      const hold = { ...opts, duration: opts.hold };
      const saved = opts;
      opts = hold;
      let p: PhaseSummary;
      try {
        p = await runPhase(0, server, workers, [], 0, members);
      } finally {
        opts = saved;
      }
      const rssAfter = rssBytes(server.proc.pid);
      const perConn = rssBefore !== null && rssAfter !== null
        ? Math.round(((rssAfter - rssBefore) / conn.ok / 1024) * 10) / 10
        : null;
      return {
        ...base,
        conns: conn.ok,
        holdS: opts.hold,
        serverRssBeforeMb: mb(rssBefore),
        serverRssConnectedMb: mb(rssConnected),
        serverRssAfterMb: mb(rssAfter),
        serverRssPeakMb: p.serverRssPeakMb,
        memoryPerConnKb: perConn,
        serverCpuPctHolding: p.serverCpuPct,
        otherCpuPct: p.otherCpuPct,
        closesWhileHolding: p.closes,
        framesWhileHolding: p.otherFrames,
        generator: p.generator,
        generatorSaturated: p.generatorSaturated,
      };
    }

    const members = membersOf(plan, failedGis);
    const steps: PhaseSummary[] = [];
    let rate = opts.rate;
    let stopReason = "";
    for (let step = 0; step < (opts.ramp ? opts.rampSteps : 1); step++) {
      const senders = sendersFor(plan, rate, failedGis, opts.ramp);
      const perSender = rate / Math.max(1, senders.length);
      if (opts.ramp && step > 0 && perSender > opts.maxSenderRate) {
        // Both targets stop here, so that their ramps stay comparable.
        stopReason = `${senders.length} clients cannot offer ${rate.toFixed(0)} msgs/s within ` +
          `${opts.maxSenderRate} msgs/s each (Parley's per-user rate limit): add --clients`;
        break;
      }
      if (target === "parley" && perSender > opts.maxSenderRate) {
        base.warnings.push(
          `step ${step}: ${perSender.toFixed(1)} msgs/s per sender exceeds Parley's per-user ` +
            `rate limit (10/s after a burst of 30): expect rate_limited errors`,
        );
      }
      if (target === "parley" && perSender * changes > opts.maxSenderRate) {
        base.warnings.push(
          `${(perSender * changes).toFixed(1)} changes/s per sender exceeds Parley's per-user ` +
            `change rate limit (10/s after a burst of 30): expect rate_limited errors`,
        );
      }
      log(`step ${step}: ${rate.toFixed(0)} msgs/s from ${senders.length} senders...`);
      const p = await runPhase(step, server, workers, senders, rate, members, changes);
      steps.push(p);
      log(
        `  delivered ${p.deliveredPerSec}/s, ack p99 ${p.ackLatencyMs.p99} ms, delivery p99 ` +
          `${p.deliveryLatencyMs.p99} ms, lost ${p.lost}, server cpu ${p.serverCpuPct}%, ` +
          `generator cpu ${p.generator.map((g) => g.cpuPct).join(",")}%`,
      );
      if (!opts.ramp) break;
      const p99 = Math.max(p.deliveryLatencyMs.p99 ?? 0, p.ackLatencyMs.p99 ?? 0);
      const best = Math.max(...steps.slice(0, -1).map((s) => s.deliveredPerSec), 0);
      if (p99 > opts.p99Bound) {
        stopReason = `p99 ${p99} ms passed the bound of ${opts.p99Bound} ms`;
        break;
      }
      if (steps.length > 1 && p.deliveredPerSec < best * 1.05) {
        stopReason = `delivered/s stopped growing (${p.deliveredPerSec} vs best ${best})`;
        break;
      }
      if (p.generatorSaturated) {
        stopReason = "a generator process passed 90% CPU: the generator is the bottleneck";
        break;
      }
      rate *= opts.rampFactor;
    }
    if (opts.ramp && !stopReason) stopReason = `ran all ${opts.rampSteps} steps`;
    for (const p of steps) {
      const hot = p.generator.filter((g) => (g.cpuPct ?? 0) > 90);
      if (hot.length) {
        base.warnings.push(
          `step ${p.step}: generator worker(s) ${
            hot.map((g) => `pid ${g.pid} at ${g.cpuPct}%`)
              .join(", ")
          } above 90% CPU: the generator, not the server, may be the bottleneck`,
        );
      }
      if ((p.generatorLoopLagMs.p99 ?? 0) > 50) {
        base.warnings.push(
          `step ${p.step}: the generator's event loop stalled (timer lag p99 ` +
            `${p.generatorLoopLagMs.p99} ms, max ${p.generatorLoopLagMs.max} ms): latency ` +
            `figures include generator stalls`,
        );
      }
      if ((p.otherCpuPct ?? 0) > 15) {
        base.warnings.push(
          `step ${p.step}: other processes on this machine used ${p.otherCpuPct}% CPU during ` +
            `the window: figures are disturbed`,
        );
      }
      if (p.lost || p.duplicates || p.echoes) {
        base.warnings.push(
          `step ${p.step}: ${p.lost} lost, ${p.duplicates} duplicated, ${p.echoes} echoed ` +
            `deliveries`,
        );
      }
    }
    const result: Result = { ...base, serverRssConnectedMb: mb(rssConnected) };
    if (opts.ramp) {
      // A step counts only when it stayed within the bound with nothing refused or lost.
      const within = steps.filter((s) =>
        Math.max(s.deliveryLatencyMs.p99 ?? 0, s.ackLatencyMs.p99 ?? 0) <= opts.p99Bound &&
        !s.lost && !s.unanswered && !Object.keys(s.errors).length
      );
      const sat = within.length
        ? within.reduce((a, b) => (b.deliveredPerSec > a.deliveredPerSec ? b : a))
        : null;
      result.saturation = sat
        ? {
          step: sat.step,
          offeredRate: sat.offeredRate,
          deliveredPerSec: sat.deliveredPerSec,
          ackRate: sat.ackRate,
          deliveryP99Ms: sat.deliveryLatencyMs.p99,
          ackP99Ms: sat.ackLatencyMs.p99,
          serverCpuPct: sat.serverCpuPct,
        }
        : null;
      result.stopReason = stopReason;
      result.steps = steps;
      Object.assign(result, sat ?? steps[steps.length - 1]);
    } else {
      Object.assign(result, steps[0]);
    }
    return result;
  } finally {
    await Promise.all(workers.map((w) => w.shutdown()));
    if (server) await stop(server.proc);
  }
}

async function runHistory(server: Server, conv: string, token: string): Promise<Result> {
  const max = opts.messages;
  const hist = new Histogram();
  let okCount = 0, failed = 0, mismatched = 0;
  const failures: Record<string, number> = {};
  const one = async (record: boolean) => {
    const before = 51 + Math.floor(Math.random() * (max - 50)); // 51..max
    const t0 = performance.now();
    try {
      const res = await fetch(
        `${server.http}/api/conversations/${conv}/messages?before=${before}&limit=50`,
        { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) },
      );
      const body = await res.json();
      const ms = performance.now() - t0;
      if (!record) return;
      if (!res.ok) {
        failed++;
        failures[res.status] = (failures[res.status] ?? 0) + 1;
        return;
      }
      hist.record(ms);
      okCount++;
      const msgs = body.messages as { seq: number }[];
      if (msgs.length !== 50 || msgs[49].seq !== before - 1 || msgs[0].seq !== before - 50) {
        mismatched++;
      }
    } catch (err) {
      if (!record) return;
      failed++;
      const k = (err as Error).name;
      failures[k] = (failures[k] ?? 0) + 1;
    }
  };
  await pool(20, 1, () => one(false)); // warm-up
  const rss = rssSampler(server.proc.pid);
  const start = cpuMark(server.proc.pid);
  const t0 = performance.now();
  await pool(opts.requests, opts.concurrency, () => one(true));
  const secs = (performance.now() - t0) / 1000;
  const end = cpuMark(server.proc.pid);
  const r = rss.stop();
  const latency: Percentiles = hist.summary();
  return {
    messages: max,
    requests: opts.requests,
    concurrency: opts.concurrency,
    ok: okCount,
    failed,
    failures,
    mismatched,
    reqPerSec: Math.round((okCount / secs) * 10) / 10,
    latencyMs: latency,
    serverCpuPct: cpuPercent(start, end),
    serverRssMb: mb(r.last),
    serverRssPeakMb: mb(r.peak),
  };
}

// --- output ------------------------------------------------------------------------------

function print(r: Result) {
  out("");
  out(`== ${r.scenario} / ${r.target} ==`);
  if (r.error) out(`ERROR: ${r.error}`);
  if (r.skipped) out(`skipped: ${r.skipped}`);
  if (r.connect) {
    out(
      `clients ${r.connect.ok}/${r.connect.requested} connected in ${r.connect.ms} ms ` +
        `(${r.connect.perSec}/s); workers ${r.params.workers}; pinned ${r.pinned}`,
    );
  }
  if (r.scenario === "idle" && r.conns !== undefined) {
    out(table(["target", "conns", "rss before MB", "rss after MB", "peak MB", "KB/conn", "cpu%"], [
      [
        r.target,
        r.conns,
        r.serverRssBeforeMb,
        r.serverRssAfterMb,
        r.serverRssPeakMb,
        r.memoryPerConnKb,
        r.serverCpuPctHolding,
      ],
    ]));
  } else if (r.scenario === "history" && r.latencyMs) {
    out(
      table([
        "target",
        "messages",
        "requests",
        "conc",
        "ok",
        "failed",
        "bad",
        "req/s",
        "p50/p90/p99/max ms",
        "cpu%",
      ], [
        [
          r.target,
          r.messages,
          r.requests,
          r.concurrency,
          r.ok,
          r.failed,
          r.mismatched,
          r.reqPerSec,
          pct(r.latencyMs),
          r.serverCpuPct,
        ],
      ]),
    );
  } else if (r.steps || r.sent !== undefined) {
    const phases: PhaseSummary[] = r.steps ?? [r as unknown as PhaseSummary];
    out(table(PHASE_HEADER, phaseRows(r.target, phases)));
    if (r.changes?.fraction) out(changesTable(r.changes, table, pct));
    if (r.saturation !== undefined) {
      out(
        r.saturation
          ? `saturation: ${r.saturation.deliveredPerSec} deliveries/s at ${r.saturation.offeredRate} ` +
            `msgs/s offered (step ${r.saturation.step}); stopped because ${r.stopReason}`
          : `no step stayed within p99 ≤ ${opts.p99Bound} ms; stopped because ${r.stopReason}`,
      );
    }
  }
  const threads = (r as { serverThreadsCpuPct?: Record<string, number> | null })
    .serverThreadsCpuPct;
  if (threads) {
    out(
      "server cpu% by thread: " +
        Object.entries(threads).map(([k, v]) => `${k} ${v}`).join(", "),
    );
  }
  for (const w of r.warnings ?? []) out(`WARNING: ${w}`);
  console.log(`BENCH_JSON ${JSON.stringify(r)}`);
}

function compare(results: Result[]) {
  const b = results.find((r) => r.target === "baseline" && !r.error && !r.skipped);
  const p = results.find((r) => r.target === "parley" && !r.error && !r.skipped);
  if (!b || !p) return;
  const ratio = (x: number | null | undefined, y: number | null | undefined) =>
    x && y ? (Math.round((x / y) * 100) / 100) + "×" : "-";
  const rows: [string, number | null, number | null][] = opts.scenario === "idle"
    ? [
      ["KB per connection", b.memoryPerConnKb, p.memoryPerConnKb],
      ["server cpu% holding", b.serverCpuPctHolding, p.serverCpuPctHolding],
    ]
    : [
      ["delivered/s", b.deliveredPerSec, p.deliveredPerSec],
      ["ack p50 ms", b.ackLatencyMs?.p50, p.ackLatencyMs?.p50],
      ["ack p99 ms", b.ackLatencyMs?.p99, p.ackLatencyMs?.p99],
      ["delivery p50 ms", b.deliveryLatencyMs?.p50, p.deliveryLatencyMs?.p50],
      ["delivery p99 ms", b.deliveryLatencyMs?.p99, p.deliveryLatencyMs?.p99],
      ["server cpu%", b.serverCpuPct, p.serverCpuPct],
      ["server cpu µs/msg", b.serverCpuUsPerMessage ?? null, p.serverCpuUsPerMessage ?? null],
      ["server rss peak MB", b.serverRssPeakMb, p.serverRssPeakMb],
    ];
  out("");
  out("== parley vs baseline ==");
  out(
    table(
      ["metric", "baseline", "parley", "parley/baseline"],
      rows.map(([k, x, y]) => [k, x, y, ratio(y, x)]),
    ),
  );
}

const results: Result[] = [];
let exitCode = 0;
if (pinning) {
  // Keep core 0 for the server: this orchestrating process runs beside the workers.
  try {
    await new Deno.Command(taskset()!, {
      args: ["-a", "-cp", "1", String(Deno.pid)],
      stdout: "null",
    })
      .output();
  } catch { /* not fatal */ }
}
log(
  `scenario ${opts.scenario}, targets ${opts.targets.join(" then ")}, timeout ${opts.timeout} s` +
    (pinning ? ", server pinned to core 0, generator to core 1" : ", no pinning"),
);
if (opts.scenario === "attachments") {
  const code = await runAttachments(opts, SERVER_CORE);
  await stopAll();
  clearTimeout(watchdog);
  Deno.exit(code);
}
for (const [i, target] of opts.targets.entries()) {
  let r: Result;
  // With --changes, Parley runs twice: text-only (but with the same bodies), then mixed.
  const changes = opts.changes > 0 && i === 1 ? opts.changes : 0;
  try {
    r = await runTarget(target, changes);
    if (changes && !results[0]?.error && !r.error) {
      const figures = (x: Result): RunFigures => ({
        allDeliveredPerSec: x.allDeliveredPerSec ?? x.deliveredPerSec,
        deliveryP99Ms: x.deliveryLatencyMs?.p99 ?? null,
        ackP99Ms: x.ackLatencyMs?.p99 ?? null,
      });
      r.vsTextOnly = compareRuns(figures(results[0]), figures(r));
    }
  } catch (err) {
    exitCode = 1;
    r = {
      scenario: opts.scenario,
      target,
      error: String((err as Error).message ?? err),
      machine: machine(),
    };
    log(`${target} failed: ${r.error}`);
  }
  results.push(r);
  print(r);
}
compare(results);
if (results[1]?.vsTextOnly) out(comparisonText(opts.changes, results[1].vsTextOnly));
await stopAll();
cleanupTemp();
clearTimeout(watchdog);
Deno.exit(exitCode);
