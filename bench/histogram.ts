/**
 * A log-bucketed latency histogram (about 2% relative precision from 1 µs to 10 minutes), small
 * enough to ship from every generator process to the parent and merge there, so percentiles
 * cover every sample without keeping millions of them.
 * @module
 */

const MIN_MS = 0.001;
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / LOG_GROWTH) + 2;

/** The wire form: non-empty buckets as `[index, count]`, plus exact count, sum and max. */
export interface HistogramData {
  buckets: [number, number][];
  count: number;
  sum: number;
  max: number;
}

/** Percentiles in milliseconds; null when there were no samples. */
export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export class Histogram {
  #counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  max = 0;

  /** Records one sample, in milliseconds. */
  record(ms: number): void {
    const v = ms > MIN_MS ? ms : MIN_MS;
    let i = Math.ceil(Math.log(v / MIN_MS) / LOG_GROWTH);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.#counts[i]++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** Adds another histogram's samples (from another process). */
  merge(data: HistogramData): void {
    for (const [i, c] of data.buckets) this.#counts[i] += c;
    this.count += data.count;
    this.sum += data.sum;
    if (data.max > this.max) this.max = data.max;
  }

  toJSON(): HistogramData {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]) buckets.push([i, this.#counts[i]]);
    return { buckets, count: this.count, sum: this.sum, max: this.max };
  }

  /** The value below which `q` (0..1) of the samples fall: the bucket's upper edge. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(MIN_MS * GROWTH ** i, this.max);
    }
    return this.max;
  }

  summary(): Percentiles {
    const r = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
    return {
      count: this.count,
      p50: r(this.quantile(0.5)),
      p90: r(this.quantile(0.9)),
      p99: r(this.quantile(0.99)),
      max: this.count ? r(this.max) : null,
      mean: this.count ? r(this.sum / this.count) : null,
    };
  }
}
