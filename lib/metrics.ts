/**
 * Prometheus metrics (via prom-client) that cover the whole server, not just the isolate a
 * scrape happens to land on.
 *
 * Under `deno serve --parallel` (and on Deno Deploy) every isolate has its own counters, and a
 * scrape reaches one isolate at random. BroadcastChannel is lossy and Deploy's isolates cannot
 * be listed, so each isolate writes a gzip'd snapshot of its metrics to KV every
 * `METRICS_INTERVAL_MS` (default 5 s) under `["metrics", isolateId, part]`, expiring after six
 * intervals; `/metrics` lists those snapshots and serves every isolate's series with an
 * `isolate` label (the answering isolate uses its live values). Cost: one atomic KV commit
 * per isolate per interval (12 a minute, ~17,000 a day, each a few KiB), and one list of
 * `isolates × parts` entries per scrape. A counter from an isolate that stopped stays visible
 * until its snapshot expires; `rate()` and `increase()` handle the reset when it comes back.
 *
 * Per-message paths (send, delivery, KV commit) only add to plain numbers and typed-array
 * buckets in `hot`; those become metric families when a snapshot is taken, so they cost no
 * allocation per message. Labelled families (HTTP requests, closes, refused frames) use
 * prom-client directly; they are per request or per close, not per delivery.
 * @module
 */
import { AggregatorRegistry, Counter, Histogram, Registry } from "prom-client";
import { type FixedHistogram, hot, LATENCY_BUCKETS } from "./metrics_hot.ts";
import { log } from "./log.ts";
import { readBlobBytes, readMetricsSnapshots, writeMetricsSnapshot } from "./store/metrics.ts";

/** One metric family as prom-client's JSON has it (what snapshots hold). */
interface Value {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}
interface Family {
  name: string;
  help: string;
  type: string;
  values: Value[];
  aggregator: string;
}

/** A gauge read from the runtime when a snapshot is taken (open connections, users, …). */
export interface GaugeSource {
  name: string;
  help: string;
  read(): number;
}

const registry = new Registry();

const httpRequests = new Counter({
  name: "parley_http_requests_total",
  help: "HTTP requests by route pattern, method and status",
  labelNames: ["route", "method", "status"] as const,
  registers: [registry],
});
const httpDuration = new Histogram({
  name: "parley_http_request_duration_seconds",
  help: "HTTP request duration by route pattern and method",
  labelNames: ["route", "method"] as const,
  buckets: [...LATENCY_BUCKETS],
  registers: [registry],
});
const wsCloses = new Counter({
  name: "parley_ws_closes_total",
  help: "WebSocket closes by close code",
  labelNames: ["code"] as const,
  registers: [registry],
});
const framesRefused = new Counter({
  name: "parley_frames_refused_total",
  help: "Client frames refused, by error code",
  labelNames: ["code"] as const,
  registers: [registry],
});

/** Counts one HTTP request (the access-log middleware calls this). */
export function observeHttp(route: string, method: string, status: number, seconds: number): void {
  httpRequests.inc({ route, method, status: String(status) });
  httpDuration.observe({ route, method }, seconds);
}

/** Counts one WebSocket close by its code. */
export function observeClose(code: number): void {
  wsCloses.inc({ code: String(code) });
}

/** Counts one refused client frame by its error code. */
export function observeRefused(code: string): void {
  framesRefused.inc({ code });
}

function histogramFamily(h: FixedHistogram): Family {
  const values: Value[] = h.buckets.map((le, i) => ({
    value: h.counts[i],
    metricName: `${h.name}_bucket`,
    labels: { le },
  }));
  values.push({ value: h.count, metricName: `${h.name}_bucket`, labels: { le: "+Inf" } });
  values.push({ value: h.sum, metricName: `${h.name}_sum`, labels: {} });
  values.push({ value: h.count, metricName: `${h.name}_count`, labels: {} });
  return { name: h.name, help: h.help, type: "histogram", values, aggregator: "sum" };
}

function scalar(name: string, help: string, type: "counter" | "gauge", value: number): Family {
  return {
    name,
    help,
    type,
    values: [{ value, labels: {} }],
    aggregator: "sum",
  };
}

/** This isolate's metrics now, as prom-client's JSON families. */
export async function snapshot(gauges: readonly GaugeSource[] = []): Promise<Family[]> {
  const families = (await registry.getMetricsAsJSON()) as unknown as Family[];
  families.push(
    scalar(
      "parley_messages_stored_total",
      "Messages committed to KV",
      "counter",
      hot.messagesStored,
    ),
    scalar(
      "parley_deliveries_total",
      "Message frames handed to sockets",
      "counter",
      hot.deliveries,
    ),
    scalar(
      "parley_kv_commit_retries_total",
      "KV operations run again after a transient lock error",
      "counter",
      hot.kvRetries,
    ),
    scalar(
      "parley_kv_reads_total",
      "KV reads made through the retrying helper",
      "counter",
      hot.kvReads,
    ),
    histogramFamily(hot.sendAck),
    histogramFamily(hot.kvCommit),
  );
  const mem = Deno.memoryUsage();
  families.push(
    scalar("parley_memory_rss_bytes", "Resident memory of the process", "gauge", mem.rss),
    scalar("parley_heap_used_bytes", "V8 heap in use by this isolate", "gauge", mem.heapUsed),
  );
  for (const g of gauges) {
    try {
      families.push(scalar(g.name, g.help, "gauge", g.read()));
    } catch (err) {
      log.warn("a metrics gauge failed", { name: g.name, error: String(err) });
    }
  }
  return families;
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function gunzip(data: Uint8Array): Promise<string> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return await new Response(stream).text();
}

/** Writes this isolate's snapshot to KV, expiring after `ttlMs`. */
export async function publishSnapshot(
  kv: Deno.Kv,
  isolateId: string,
  ttlMs: number,
  gauges: readonly GaugeSource[] = [],
): Promise<void> {
  const data = await gzip(JSON.stringify(await snapshot(gauges)));
  await writeMetricsSnapshot(kv, isolateId, data, ttlMs);
}

/**
 * Publishes this isolate's snapshot every `intervalMs` until the returned stop function is
 * called (which publishes once more, so the last counts are not lost).
 */
export function startPublisher(
  kv: Deno.Kv,
  isolateId: string,
  intervalMs: number,
  gauges: readonly GaugeSource[] = [],
): () => Promise<void> {
  const ttlMs = intervalMs * 6;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = publishSnapshot(kv, isolateId, ttlMs, gauges).catch((err) =>
      log.warn("metrics snapshot not written", { error: String(err) })
    );
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
    tick();
    await running;
  };
}

/** Other isolates' latest snapshots, by isolate id, with when they were taken. */
async function readSnapshots(kv: Deno.Kv, exclude: string) {
  const out = new Map<string, { ts: number; families: Family[] }>();
  for (const [iso, snap] of await readMetricsSnapshots(kv, exclude)) {
    try {
      out.set(iso, { ts: snap.ts, families: JSON.parse(await gunzip(snap.data)) });
    } catch (err) {
      log.warn("a metrics snapshot could not be read", { isolate: iso, error: String(err) });
    }
  }
  return out;
}

function labelled(families: Family[], isolate: string): Family[] {
  return families.map((f) => ({
    ...f,
    values: f.values.map((v) => ({ ...v, labels: { ...v.labels, isolate } })),
  }));
}

/**
 * The Prometheus text for the whole server: this isolate live, every other isolate from its
 * latest snapshot in KV, each series labelled `isolate`.
 */
export async function renderMetrics(
  kv: Deno.Kv,
  isolateId: string,
  gauges: readonly GaugeSource[] = [],
): Promise<string> {
  const now = Date.now();
  const others = await readSnapshots(kv, isolateId);
  const sets: Family[][] = [labelled(await snapshot(gauges), isolateId)];
  const age: Family = {
    name: "parley_metrics_snapshot_age_seconds",
    help: "Age of each isolate's metrics as served (0: the isolate that answered)",
    type: "gauge",
    values: [{ value: 0, labels: { isolate: isolateId } }],
    aggregator: "sum",
  };
  for (const [iso, snap] of others) {
    sets.push(labelled(snap.families, iso));
    age.values.push({ value: (now - snap.ts) / 1000, labels: { isolate: iso } });
  }
  sets.push([age]);
  // One value for the whole store, kept in KV by the blob store's own commits: served once,
  // without an `isolate` label (summing it over isolates would count it once per isolate).
  sets.push([
    scalar(
      "parley_attachment_bytes",
      "Bytes of attachments and previews stored in KV (chunks, including uploads in progress " +
        "and deleted ones not yet swept)",
      "gauge",
      await readBlobBytes(kv),
    ),
  ]);
  return await AggregatorRegistry.aggregate(sets as never).metrics();
}

/** The content type of the Prometheus text format. */
export const METRICS_CONTENT_TYPE = registry.contentType;
