/**
 * `deno task import file [--force]`: loads an export into the store at KV_PATH. Refuses a store
 * that already holds data unless `--force`. Run it with the server stopped.
 * @module
 */
// deno-lint-ignore-file no-console
import { loadConfig } from "../lib/config.ts";
import { ImportError, importStore, lines } from "../lib/store/backup.ts";
import { openKv } from "../lib/store/kv.ts";

const force = Deno.args.includes("--force");
const file = Deno.args.find((a) => !a.startsWith("--"));
if (!file) {
  console.error("usage: deno task import <file|-> [--force]");
  Deno.exit(2);
}
const kv = await openKv(loadConfig().kvPath);
try {
  const stream = file === "-" ? Deno.stdin.readable : (await Deno.open(file)).readable;
  const res = await importStore(kv, lines(stream), { force });
  console.error(
    `imported ${res.imported} entries (schema version ${res.header.schemaVersion}, exported ` +
      `${res.header.exportedAt}); ${res.expiredSkipped} expired sessions skipped, ` +
      `${res.headsRaised} conversation heads recomputed`,
  );
} catch (err) {
  if (!(err instanceof ImportError)) throw err;
  console.error(`import refused: ${err.message}`);
  Deno.exitCode = 1;
} finally {
  kv.close();
}
