/**
 * Runs the whole test suite (after building the client assets the browser tests load) and
 * ends with one line CI can read: `tests: N passed, N failed, N skipped`.
 *
 * The test servers' logs are collected while the tests run (`PARLEY_TEST_LOG_DIR`, see
 * tests/helpers/logsink.ts) into a folder of `test-artifacts/logs/` (kept when the scan fails), and scanned
 * afterwards for passwords, tokens, cookies and authorization headers (tests/helpers/log_scan.ts).
 * The scan counts as one more test in the totals: a secret in any line fails the run, and so does
 * a whole-suite run whose logs are too few to mean anything.
 *
 * Unit tests live beside their modules (`x.ts`, `x_test.ts`) in lib/, routes/, client/,
 * components/, islands/ and bench/; the integration and browser suites in tests/. With no
 * arguments all of them run. Benchmarks (`*_bench.ts`, `Deno.bench`) are not test modules, so they stay out.
 * @module
 */
// deno-lint-ignore-file no-console
import { build } from "./build.ts";
import { scanLogDir, verdict } from "../tests/helpers/log_scan.ts";

const root = new URL("../", import.meta.url).pathname;
await build();
const TEST_DIRS = ["lib/", "routes/", "client/", "components/", "islands/", "bench/", "tests/"];
const exists = (dir: string) => {
  try {
    return Deno.statSync(root + dir).isDirectory;
  } catch {
    return false;
  }
};
const targets = Deno.args.length ? Deno.args : TEST_DIRS.filter(exists);
const args = ["test", "-A", "--quiet", ...targets];
// One folder per run, so that two runs in one checkout never mix (or delete) each other's logs;
// kept only when the scan fails, for reading.
const logDir = `${root}test-artifacts/logs/${
  new Date().toISOString().replace(/[:.]/g, "-")
}-${Deno.pid}`;
await Deno.mkdir(logDir, { recursive: true });
const child = new Deno.Command(Deno.execPath(), {
  args,
  cwd: root,
  env: { PARLEY_TEST_LOG_DIR: logDir },
  stdout: "piped",
  stderr: "inherit",
})
  .spawn();
let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000);
}
const { code } = await child.status;
// deno-lint-ignore no-control-regex
const plain = tail.replace(/\x1b\[[0-9;]*m/g, "");
const m =
  /(ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/
    .exec(plain);
if (!m) {
  console.log(`deno test printed no summary (exit ${code})`);
  console.log("tests: 0 passed, 1 failed");
  Deno.exit(code || 1);
}
let [passed, failed, ignored] = [m[2], m[3], m[4] ?? "0"].map(Number);

// The secret scan of every collected log line, one more test in the totals.
const scan = await scanLogDir(logDir);
const { ok, problems } = verdict(scan, Deno.args.length === 0);
console.log(
  `log scan: ${ok ? "ok" : "FAILED"}: ${scan.lines} lines from ${scan.inprocServers} ` +
    `in-process servers and ${scan.childServers} server processes, checked for ` +
    `${scan.knownSecrets} recorded secrets and every token shape (${logDir})`,
);
for (const p of problems) console.log(`  ${p}`);
if (ok) {
  passed++;
  await Deno.remove(logDir, { recursive: true }).catch(() => {});
} else failed++;

console.log(`tests: ${passed} passed, ${failed} failed${ignored ? `, ${ignored} skipped` : ""}`);
Deno.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
