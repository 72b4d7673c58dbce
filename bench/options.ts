/**
 * Command-line options of `deno task bench`.
 * @module
 */
import { parseArgs } from "node:util";

export type Scenario = "fanout" | "direct" | "idle" | "history" | "attachments";
export type TargetName = "parley" | "baseline";

export interface Options {
  scenario: Scenario;
  targets: TargetName[];
  clients: number;
  senders: number;
  rate: number;
  duration: number;
  ramp: boolean;
  rampFactor: number;
  rampSteps: number;
  p99Bound: number;
  conns: number;
  hold: number;
  workers: number;
  messages: number;
  requests: number;
  concurrency: number;
  bodyBytes: number;
  maxSenderRate: number;
  connectConcurrency: number;
  pin: boolean;
  jsonOnly: boolean;
  timeout: number;
  /** Run Parley under `deno serve --parallel` (one isolate per core). */
  parallel: boolean;
  /** Extra `deno serve` flags for Parley, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
  serverFlags: string[];
  /** Extra `deno run` flags for the generator's worker processes (e.g. to profile them). */
  workerFlags: string[];
  /** Fan-out: fraction of sends that are edits and reactions (bench/changes.ts); 0 for none. */
  changes: number;
}

export const USAGE = `deno task bench [options]

  --scenario fanout|direct|idle|history|attachments   (default fanout)
  --target parley|baseline|both           (default both, run back to back)
  --clients C        WebSocket clients (fanout, direct)              default 1000
  --senders S        clients that send (fanout)                      default 200
  --rate R           total messages/s offered                        default 1000
  --duration T       seconds of sending per step                     default 10
  --ramp             raise R stepwise until delivered/s stops growing or p99 > bound
  --ramp-factor F    rate multiplier per step                        default 1.5
  --ramp-steps N     at most N steps                                 default 8
  --p99-bound MS     latency bound for --ramp                        default 200
  --conns N          connections held (idle)                         default 5000
  --hold SEC         how long idle connections are held              default 10
  --workers W        generator processes                             default 1
  --messages M       messages seeded (history)                       default 1000000
  --requests N       history page requests timed                     default 1000
  --concurrency N    history requests in flight                      default 1
  --body-bytes N     extra characters per message body               default 0
  --max-sender-rate  msgs/s one sender may send (Parley allows 10)    default 10
  --connect-concurrency N  connections opening at once per worker   default 100
  --no-pin           do not pin with taskset (server core 0, generator core 1)
  --timeout SEC      hard bound on the whole run                     default: computed
  --json-only        print only the BENCH_JSON lines
  --parallel         run Parley under \`deno serve --parallel\` (isolates share the server core
                     when pinned; add --no-pin to give them both cores)
  --server-flags "F" extra deno flags for Parley, split on spaces (also PARLEY_SERVER_FLAGS),
                     e.g. --server-flags "--cpu-prof --cpu-prof-dir=/tmp/prof"
  --worker-flags "F" extra deno flags for the generator's workers (also BENCH_WORKER_FLAGS)
  --changes F        fanout, Parley only: fraction F (0..1] of each sender's sends are changes,
                     half reactions and half edits; runs text-only first, then mixed, each on a
                     fresh server, and prints the mixed run's ratios to the text-only run
`;

function num(v: string | undefined, name: string, fallback: number, min = 0): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`);
  return n;
}

/** Parses argv; throws with a readable message on bad input. */
export function parseOptions(argv: string[]): Options & { help: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      scenario: { type: "string" },
      target: { type: "string" },
      clients: { type: "string" },
      senders: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      ramp: { type: "boolean" },
      "ramp-factor": { type: "string" },
      "ramp-steps": { type: "string" },
      "p99-bound": { type: "string" },
      conns: { type: "string" },
      hold: { type: "string" },
      workers: { type: "string" },
      messages: { type: "string" },
      requests: { type: "string" },
      concurrency: { type: "string" },
      "body-bytes": { type: "string" },
      "max-sender-rate": { type: "string" },
      "connect-concurrency": { type: "string" },
      "no-pin": { type: "boolean" },
      timeout: { type: "string" },
      "json-only": { type: "boolean" },
      parallel: { type: "boolean" },
      "server-flags": { type: "string" },
      "worker-flags": { type: "string" },
      changes: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const scenario = (values.scenario ?? "fanout") as Scenario;
  if (!["fanout", "direct", "idle", "history", "attachments"].includes(scenario)) {
    throw new Error(
      `--scenario must be fanout, direct, idle, history or attachments (got ${scenario})`,
    );
  }
  const target = values.target ?? "both";
  if (!["parley", "baseline", "both"].includes(target)) {
    throw new Error(`--target must be parley, baseline or both (got ${target})`);
  }
  const clients = Math.floor(num(values.clients, "clients", 1000, 2));
  const o: Options & { help: boolean } = {
    help: values.help ?? false,
    scenario,
    targets: target === "both" ? ["baseline", "parley"] : [target as TargetName],
    clients,
    senders: Math.min(clients, Math.floor(num(values.senders, "senders", 200, 1))),
    rate: num(values.rate, "rate", 1000, 0.1),
    duration: num(values.duration, "duration", 10, 1),
    ramp: values.ramp ?? false,
    rampFactor: num(values["ramp-factor"], "ramp-factor", 1.5, 1.05),
    rampSteps: Math.floor(num(values["ramp-steps"], "ramp-steps", 8, 1)),
    p99Bound: num(values["p99-bound"], "p99-bound", 200, 1),
    conns: Math.floor(num(values.conns, "conns", 5000, 1)),
    hold: num(values.hold, "hold", 10, 1),
    workers: Math.floor(num(values.workers, "workers", 1, 1)),
    messages: Math.floor(num(values.messages, "messages", 1_000_000, 51)),
    requests: Math.floor(num(values.requests, "requests", 1000, 1)),
    concurrency: Math.floor(num(values.concurrency, "concurrency", 1, 1)),
    bodyBytes: Math.floor(num(values["body-bytes"], "body-bytes", 0, 0)),
    maxSenderRate: num(values["max-sender-rate"], "max-sender-rate", 10, 0.1),
    connectConcurrency: Math.floor(
      num(values["connect-concurrency"], "connect-concurrency", 100, 1),
    ),
    pin: !(values["no-pin"] ?? false),
    jsonOnly: values["json-only"] ?? false,
    timeout: 0,
    parallel: values.parallel ?? false,
    serverFlags: (values["server-flags"] ?? Deno.env.get("PARLEY_SERVER_FLAGS") ?? "")
      .split(/\s+/).filter(Boolean),
    workerFlags: (values["worker-flags"] ?? Deno.env.get("BENCH_WORKER_FLAGS") ?? "")
      .split(/\s+/).filter(Boolean),
    changes: num(values.changes, "changes", 0, 0),
  };
  if (o.changes > 1) throw new Error("--changes must be a fraction between 0 and 1");
  if (o.changes > 0) {
    if (scenario !== "fanout") throw new Error("--changes is for --scenario fanout");
    if (target !== "parley") {
      throw new Error("--changes needs --target parley (the baseline server has no changes)");
    }
    if (o.ramp) throw new Error("--changes does not combine with --ramp");
    // Two runs: text-only, then mixed.
    o.targets = ["parley", "parley"];
  }
  if (o.bodyBytes > 3900) throw new Error("--body-bytes must be at most 3900");
  if (o.clients > 5000 && scenario === "fanout") {
    throw new Error("--clients must be at most 5000 for fanout (a group's member limit)");
  }
  if (scenario === "direct" && o.clients % 2) o.clients -= 1;
  o.timeout = num(values.timeout, "timeout", defaultTimeout(o), 10);
  return o;
}

/** A bound generous enough for set-up, every step and its drain, per target. */
function defaultTimeout(o: Options): number {
  const steps = o.ramp ? o.rampSteps : 1;
  const drain = drainMaxSec(o.duration) + 5;
  const perTarget = o.scenario === "idle"
    ? 120 + o.hold + o.conns / 50
    : o.scenario === "history"
    ? 180 + o.messages / 5000 + o.requests * 0.2
    : 120 + o.clients / 20 + steps * (o.duration + drain + 2);
  return Math.ceil(30 + o.targets.length * perTarget);
}

/** How long a phase may drain after its send window, in seconds. */
export function drainMaxSec(duration: number): number {
  return Math.max(5, Math.min(30, duration));
}
