/**
 * `deno task admin <command>`: account and store management (see `lib/admin.ts`). Works on the
 * store at KV_PATH, also while the server runs.
 * @module
 */
// deno-lint-ignore-file no-console
import { runAdmin } from "../lib/admin.ts";
import { loadConfig } from "../lib/config.ts";
import { openKv } from "../lib/store/kv.ts";
import { ensureSchema } from "../lib/store/schema.ts";

const { kvPath } = loadConfig();
const kv = await openKv(kvPath);
try {
  await ensureSchema(kv);
  Deno.exitCode = await runAdmin(kv, Deno.args, { kvPath, out: (line) => console.log(line) });
} finally {
  kv.close();
}
