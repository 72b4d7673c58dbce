// deno-lint-ignore-file no-console
/**
 * What a KV mutation costs by where its key lands: on a KV file of 100,000 keys, commits of
 * `muts` mutations either to keys next to each other (one B-tree page takes several) or to
 * random keys (each its own page), timed as process CPU (all threads: SQLite's writer too).
 * Why it matters: a direct message writes keys of seven families, each its own part of the
 * tree (docs/benchmarks.md, "Direct path, pass 5").
 *
 *   deno run -A bench/kv_locality.ts
 * @module
 */
import process from "node:process";

const dir = await Deno.makeTempDir({ prefix: "parley-kv-locality-" });
const kv = await Deno.openKv(`${dir}/bench.kv`);
const value = {
  id: "x".repeat(36),
  body: "hello world ".repeat(4),
  ts: Date.now(),
  senderId: "u".repeat(36),
};
try {
  for (let i = 0; i < 200; i++) {
    let op = kv.atomic();
    for (let j = 0; j < 500; j++) op = op.set(["p", crypto.randomUUID(), j], value);
    await op.commit();
  }
  const run = async (commits: number, muts: number, random: boolean) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < commits; i++) {
      let op = kv.atomic();
      for (let j = 0; j < muts; j++) {
        op = op.set(random ? ["p", crypto.randomUUID(), j] : ["s", muts, i, j], value);
      }
      await op.commit();
    }
    const c = process.cpuUsage(c0);
    const us = c.user + c.system;
    console.log(
      `${commits} commits × ${muts} mutations, ${random ? "random keys  " : "adjacent keys"}: ` +
        `${(us / commits).toFixed(0)} µs CPU per commit, ${(us / commits / muts).toFixed(1)} µs ` +
        `per mutation (wall ${(performance.now() - t0).toFixed(0)} ms)`,
    );
  };
  await run(400, 45, false);
  await run(400, 45, true);
  await run(2000, 9, false);
  await run(2000, 9, true);
} finally {
  kv.close();
  await Deno.remove(dir, { recursive: true });
}
