/**
 * Runs the whole test suite (after building the client assets the browser tests load) and
 * ends with one line CI can read: `tests: N passed, N failed, N skipped`.
 *
 * Unit tests live beside their modules (`x.ts`, `x_test.ts`) in lib/, routes/, client/,
 * components/, islands/ and bench/; the integration and browser suites in tests/. With no
 * arguments all of them run. Benchmarks (`*_bench.ts`, `Deno.bench`) are not test modules, so they stay out.
 * @module
 */
// deno-lint-ignore-file no-console
import { build } from "./build.ts";

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
const child = new Deno.Command(Deno.execPath(), {
  args,
  cwd: root,
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
const [passed, failed, ignored] = [m[2], m[3], m[4] ?? "0"].map(Number);
console.log(`tests: ${passed} passed, ${failed} failed${ignored ? `, ${ignored} skipped` : ""}`);
Deno.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
