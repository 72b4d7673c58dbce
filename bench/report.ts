/**
 * Merging the workers' counts into one phase summary (losses and duplicates by message id),
 * and printing results as tables.
 * @module
 */
import { type ChangesSummary, summarizeChanges } from "./changes.ts";
import { Histogram, type Percentiles } from "./histogram.ts";
import { addCounts, tallyDeliveries } from "./tally.ts";
import type { PhaseStats } from "./wire.ts";

export interface ProcessUse {
  pid: number;
  cpuPct: number | null;
  rssMb: number | null;
}

export interface PhaseSummary {
  step: number;
  offeredRate: number;
  senders: number;
  perSenderRate: number;
  durationS: number;
  sent: number;
  achievedSendRate: number;
  acked: number;
  ackRate: number;
  errors: Record<string, number>;
  rateLimited: number;
  unanswered: number;
  deliveriesExpected: number;
  deliveriesSeen: number;
  deliveriesTotal: number;
  deliveredPerSec: number;
  lost: number;
  duplicates: number;
  echoes: number;
  unexpected: number;
  late: number;
  ackLatencyMs: Percentiles;
  deliveryLatencyMs: Percentiles;
  /** Busy CPU of the whole machine, in % of one core (200 = both cores of two). */
  hostCpuPct: number | null;
  /** What neither the server, the workers nor the orchestrator used: other load on the box. */
  otherCpuPct: number | null;
  serverCpuPct: number | null;
  serverRssMb: number | null;
  serverRssPeakMb: number | null;
  /** Server CPU per thread name, % of one core (see `threadCpuSeconds`). */
  serverThreadsCpuPct?: Record<string, number> | null;
  /** Server CPU seconds from the window's start until the last answer (drain included). */
  serverCpuSecondsToDrain?: number | null;
  /** Server CPU time per acked (stored) message, in µs: serverCpuSecondsToDrain over acked,
   * so that work a server left for after the window still counts. */
  serverCpuUsPerMessage?: number | null;
  generator: ProcessUse[];
  generatorSaturated: boolean;
  /** Lateness of a 10 ms timer in the workers during the window (stalls of the generator). */
  generatorLoopLagMs: Percentiles;
  coalescedBatches: number;
  maxBatch: number;
  closes: Record<string, number>;
  otherFrames: Record<string, number>;
  /** With `--changes`: edits and reactions, counted apart (`deliveredPerSec`, `sent`, `acked`,
   * `lost`, `ackLatencyMs` and `deliveryLatencyMs` above are of messages only). */
  changes?: ChangesSummary;
  /** Deliveries of messages and changes together per second of the window. */
  allDeliveredPerSec?: number;
}

/**
 * Merges every worker's stats for one phase. `members` gives, per conversation, how many
 * connected clients are in it: each acked message is expected on all of them but its sender.
 */
export function summarize(
  step: number,
  stats: PhaseStats[],
  members: Map<string, number>,
  offered: { rate: number; senders: number; durationS: number; changes?: number },
  use: {
    hostCpuPct: number | null;
    otherCpuPct: number | null;
    serverCpuPct: number | null;
    serverRssMb: number | null;
    serverRssPeakMb: number | null;
    serverCpuSecondsToDrain?: number | null;
    serverThreadsCpuPct?: Record<string, number> | null;
    generator: ProcessUse[];
  },
): PhaseSummary {
  const ack = new Histogram();
  const del = new Histogram();
  const lag = new Histogram();
  const errors: Record<string, number> = {};
  const closes: Record<string, number> = {};
  const otherFrames: Record<string, number> = {};
  const acked = new Map<string, string>();
  const received = new Map<string, number>();
  let sent = 0, unanswered = 0, deliveries = 0, inWindow = 0, duplicates = 0, echoes = 0;
  let late = 0, batches = 0, maxBatch = 0;
  for (const s of stats) {
    ack.merge(s.ackLatency);
    del.merge(s.deliveryLatency);
    lag.merge(s.loopLag);
    addCounts(errors, s.errors);
    addCounts(closes, s.closes);
    addCounts(otherFrames, s.otherFrames);
    // Messages are known by key, `conversationId#seq` (bench/wire.ts).
    for (const [key, conv] of s.acks) acked.set(key, conv);
    for (const [key, n] of s.received) received.set(key, (received.get(key) ?? 0) + n);
    sent += s.sent;
    unanswered += s.unanswered;
    deliveries += s.deliveries;
    inWindow += s.deliveriesInWindow;
    duplicates += s.duplicates;
    echoes += s.echoes;
    late += s.late;
    batches += s.batches;
    maxBatch = Math.max(maxBatch, s.maxBatch);
  }
  let { expected, seen, lost, unexpected } = tallyDeliveries(acked, members, received);
  const d = offered.durationS;
  const changeStats = stats.flatMap((s) => (s.changes ? [s.changes] : []));
  const changes = changeStats.length
    ? summarizeChanges(offered.changes ?? 0, changeStats, received, members, d)
    : null;
  for (const [key, n] of received) {
    if (!acked.has(key) && !changes?.keys.has(key)) unexpected += n;
  }
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    step,
    offeredRate: round(offered.rate),
    senders: offered.senders,
    perSenderRate: Math.round((offered.rate / offered.senders) * 100) / 100,
    durationS: d,
    sent,
    achievedSendRate: round(sent / d),
    acked: acked.size,
    ackRate: round(acked.size / d),
    errors,
    rateLimited: errors["rate_limited"] ?? 0,
    unanswered,
    deliveriesExpected: expected,
    deliveriesSeen: seen,
    deliveriesTotal: deliveries,
    deliveredPerSec: round(inWindow / d),
    lost,
    duplicates,
    echoes,
    unexpected,
    late,
    ackLatencyMs: ack.summary(),
    deliveryLatencyMs: del.summary(),
    ...use,
    serverCpuUsPerMessage: use.serverCpuSecondsToDrain == null || acked.size === 0
      ? null
      : Math.round((use.serverCpuSecondsToDrain * 1e6) / acked.size),
    generatorSaturated: use.generator.some((g) => (g.cpuPct ?? 0) > 90),
    generatorLoopLagMs: lag.summary(),
    coalescedBatches: batches,
    maxBatch,
    closes,
    otherFrames,
    ...(changes
      ? {
        changes: changes.summary,
        allDeliveredPerSec: round(
          inWindow / d + changes.summary.edit.deliveredPerSec +
            changes.summary.react.deliveredPerSec,
        ),
      }
      : {}),
  };
}

/** Formats rows as an aligned text table. */
export function table(header: string[], rows: (string | number | null)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? "-" : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [
    line(cells[0]),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.slice(1).map(line),
  ].join("\n");
}

/** "p50/p90/p99/max" in ms. */
export function pct(p: Percentiles): string {
  if (!p.count) return "-";
  const f = (v: number | null) => (v === null ? "-" : v < 10 ? v.toFixed(2) : v.toFixed(0));
  return `${f(p.p50)}/${f(p.p90)}/${f(p.p99)}/${f(p.max)}`;
}

/** One row per phase: the columns a reader compares. */
export function phaseRows(target: string, phases: PhaseSummary[]): (string | number | null)[][] {
  return phases.map((p) => [
    target,
    p.offeredRate,
    p.achievedSendRate,
    p.acked,
    p.unanswered,
    Object.values(p.errors).reduce((a, b) => a + b, 0) +
    (p.rateLimited ? `(rl ${p.rateLimited})` : ""),
    p.deliveredPerSec,
    `${p.deliveriesSeen}/${p.deliveriesExpected}`,
    p.lost,
    p.duplicates,
    pct(p.ackLatencyMs),
    pct(p.deliveryLatencyMs),
    p.serverCpuPct,
    p.serverRssPeakMb,
    p.generator.map((g) => g.cpuPct ?? "-").join(","),
    p.otherCpuPct,
    p.generatorLoopLagMs.count ? `${p.generatorLoopLagMs.p99}/${p.generatorLoopLagMs.max}` : "-",
  ]);
}

export const PHASE_HEADER = [
  "target",
  "offered/s",
  "sent/s",
  "acked",
  "unanswered",
  "errors",
  "deliv/s",
  "seen/expected",
  "lost",
  "dup",
  "ack ms p50/p90/p99/max",
  "deliv ms p50/p90/p99/max",
  "srv cpu%",
  "srv rss MB",
  "gen cpu%",
  "other cpu%",
  "gen lag p99/max",
];
