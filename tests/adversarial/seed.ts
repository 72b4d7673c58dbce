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

/**
 * Prints a probe's seed or figures on stderr, straight to the stream: `deno test --quiet` (as
 * `deno task test` runs it) hides console.log, and the probes' log capture takes console.*.
 */
export function report(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}
