/**
 * The counters of per-message paths (send, delivery, KV commit): plain numbers and typed-array
 * buckets, so that counting allocates nothing. `metrics.ts` turns them into Prometheus
 * families when it takes a snapshot. No imports, so the store and the engine can use it
 * without pulling in prom-client.
 * @module
 */

/** A histogram with fixed buckets kept in a typed array: observing allocates nothing. */
export class FixedHistogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length);
  }
  observe(value: number): void {
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) if (value <= b[i]) this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Counters for per-message paths: plain numbers, read when a snapshot is taken. */
export const hot = {
  /** Messages committed to KV by this isolate. */
  messagesStored: 0,
  /** `message` frames this isolate handed to its sockets. */
  deliveries: 0,
  /** KV operations that hit a transient lock error and were run again. */
  kvRetries: 0,
  /** KV reads (get, getMany, list) made through `retry` (bench/population.ts counts them per
   * reconnect). */
  kvReads: 0,
  /** Seconds from a `send` frame's arrival to its `ack` going out. */
  sendAck: new FixedHistogram(
    "parley_send_ack_seconds",
    "Seconds from a send frame's arrival to its ack",
    LATENCY_BUCKETS,
  ),
  /** Seconds per KV call made through `retry` (commits and reads), retries included. */
  kvCommit: new FixedHistogram(
    "parley_kv_commit_seconds",
    "Seconds per KV operation through the retrying helper, retries included",
    LATENCY_BUCKETS,
  ),
};
