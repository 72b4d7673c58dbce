/**
 * `deno task export [file]`: writes every entry of the store at KV_PATH as JSON lines (to the
 * file, readable by its owner only, or to stdout). Safe while the server runs; see
 * `lib/store/backup.ts` for what consistency that gives.
 * @module
 */
// deno-lint-ignore-file no-console
import { loadConfig } from "../lib/config.ts";
import { exportStore } from "../lib/store/backup.ts";
import { openKv } from "../lib/store/kv.ts";

const [file] = Deno.args;
const kv = await openKv(loadConfig().kvPath);
try {
  if (file && file !== "-") {
    const tmp = `${file}.partial`;
    using out = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    const header = await exportStore(kv, (chunk) => out.write(chunk));
    await Deno.rename(tmp, file);
    console.error(
      `exported ${header.entries} entries to ${file}: ${JSON.stringify(header.counts)}`,
    );
  } else {
    const w = Deno.stdout.writable.getWriter();
    const header = await exportStore(kv, (chunk) => w.write(chunk));
    await w.close();
    console.error(`exported ${header.entries} entries: ${JSON.stringify(header.counts)}`);
  }
} finally {
  kv.close();
}
