/**
 * Development: one isolate, server restarts on code changes, client assets rebuilt on change.
 * @module
 */
// deno-lint-ignore-file no-console
import { loadConfig } from "../lib/config.ts";
import { build } from "./build.ts";

const config = loadConfig();
const root = new URL("../", import.meta.url).pathname;
await build();
const child = new Deno.Command(Deno.execPath(), {
  args: ["serve", "--watch", "-A", "--port", String(config.port), "--host", config.host, "main.ts"],
  cwd: root,
}).spawn();

let timer: ReturnType<typeof setTimeout> | undefined;
const watcher = Deno.watchFs(
  ["client", "islands", "components", "static"].map((d) => `${root}${d}`),
);
// `deno serve --watch` treats the program's own exit as "finished, wait for changes", so after
// the graceful SIGTERM (sockets closed with 1001) it is killed outright.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    watcher.close();
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      Deno.exit(0);
    }, 1500);
  });
}
for await (const _ of watcher) {
  clearTimeout(timer);
  timer = setTimeout(() => build().catch((err) => console.error(String(err))), 150);
}
await child.status;
