/**
 * Lists import cycles among the modules of `lib/` (type-only imports included: a cycle of
 * types still ties two modules' meaning together). Exits 1 when there is one.
 * @example
 * deno run -A scripts/cycles.ts
 * @module
 */
// deno-lint-ignore-file no-console
const root = new URL("../", import.meta.url);
const lib = new URL("lib/", root).href;
const files: string[] = [];
async function walk(dir: URL): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const u = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) await walk(u);
    else if (/\.tsx?$/.test(e.name) && !/_test\.tsx?$/.test(e.name)) files.push(u.pathname);
  }
}
await walk(new URL("lib/", root));
const edges = new Map<string, Set<string>>();
for (const file of files) {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", file] }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  for (const m of info.modules ?? []) {
    if (!m.specifier?.startsWith(lib)) continue;
    const deps = edges.get(m.specifier) ?? new Set<string>();
    for (const d of m.dependencies ?? []) {
      const to = d.code?.specifier ?? d.type?.specifier;
      if (to?.startsWith(lib)) deps.add(to);
    }
    edges.set(m.specifier, deps);
  }
}
const cycles: string[] = [];
const state = new Map<string, "open" | "done">();
const stack: string[] = [];
function visit(n: string): void {
  state.set(n, "open");
  stack.push(n);
  for (const d of edges.get(n) ?? []) {
    if (state.get(d) === "open") {
      cycles.push(
        [...stack.slice(stack.indexOf(d)), d].map((s) => "lib/" + s.slice(lib.length)).join(" -> "),
      );
    } else if (!state.has(d)) visit(d);
  }
  stack.pop();
  state.set(n, "done");
}
for (const n of edges.keys()) if (!state.has(n)) visit(n);
for (const c of cycles) console.log("cycle: " + c);
console.log(`${edges.size} modules in lib/, ${cycles.length} cycle(s)`);
Deno.exit(cycles.length ? 1 : 0);
