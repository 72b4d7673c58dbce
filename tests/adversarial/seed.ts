/**
 * Seeds for the adversarial probes: from the environment when a failure is being replayed
 * (`FUZZ_SEED=123 deno task test tests/adversarial/fuzz_test.ts`), else fresh, and always
 * printed so a failure in CI can be replayed.
 */

/** The seed named by `envName`, or a fresh one. */
export function seedFrom(envName: string): number {
  const raw = Deno.env.get(envName);
  if (raw && /^\d+$/.test(raw)) return Number(raw) >>> 0;
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** A small seeded PRNG (mulberry32) with the helpers the generators need. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const DIR = new URL("../../test-artifacts/", import.meta.url).pathname;

/**
 * Reports a probe's seed or figures: on stderr (shown by `deno test`), and appended to
 * `test-artifacts/probes.log`, since `deno test --quiet` (as `deno task test` runs it) drops a
 * test's output. The seed is also in each probe's test name, which is always printed.
 */
export function report(line: string): void {
  const text = new TextEncoder().encode(`${new Date().toISOString()} ${line}\n`);
  Deno.stderr.writeSync(text);
  try {
    Deno.mkdirSync(DIR, { recursive: true });
    Deno.writeFileSync(DIR + "probes.log", text, { append: true });
  } catch { /* the report on stderr stands */ }
}
