// deno-lint-ignore-file no-console
/**
 * Reads a V8 `.cpuprofile` (from `--cpu-prof`) and prints where the JavaScript thread's time
 * went: self time by category (our code by file, npm packages, Deno's extensions such as
 * WebSocket and KV, JSON, GC) and the top functions. Run:
 * `deno run -A bench/profile_summary.ts /tmp/prof/CPU.*.cpuprofile [--top 30]`.
 * @module
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The bucket a frame's self time counts in. */
export function category(fn: string, url: string): string {
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(idle)") return "idle";
  if (fn === "(program)") return "(program: native, not attributed)";
  if (fn === "(root)") return "root";
  if (fn.startsWith("JSON.") || fn === "stringify" || fn === "parse" && url === "") {
    return "JSON (native)";
  }
  if (url.includes("/node_modules/") || url.startsWith("npm:") || url.includes("/npm/")) {
    const m = url.match(/node_modules\/(?:\.deno\/)?((?:@[^/]+\/)?[^/@]+)/);
    return `npm: ${m ? m[1] : "?"}`;
  }
  if (url.startsWith("ext:")) return url.replace(/^ext:/, "deno ").replace(/\.[jt]s$/, "");
  if (url.startsWith("file://")) {
    const rel = url.replace(/^file:\/\/.*?\/(lib|routes|bench|main\.ts|scripts)/, "$1");
    return `ours: ${rel}`;
  }
  if (url === "") return `native: ${fn || "(anonymous)"}`;
  return url;
}

export function summarize(p: Profile, top = 30): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)")
    .reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const cats = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName: fn, url, lineNumber } = byId.get(id)!.callFrame;
    if (fn === "(idle)") continue;
    const c = category(fn, url);
    cats.set(c, (cats.get(c) ?? 0) + t);
    const name = `${fn || "(anonymous)"} ${url.replace(/^.*\//, "")}:${lineNumber + 1}`;
    fns.set(name, (fns.get(name) ?? 0) + t);
  }
  const pct = (t: number) => ((100 * t) / busy).toFixed(1).padStart(5) + "%";
  const lines = [
    `profile ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s, JS thread busy ` +
    `${(busy / 1e6).toFixed(2)} s (${((100 * busy) / total).toFixed(1)}% of samples)`,
    "",
    "self time by category (% of busy):",
    ...[...cats].sort((a, b) => b[1] - a[1]).slice(0, top).map(([c, t]) => `${pct(t)}  ${c}`),
    "",
    "top functions by self time:",
    ...[...fns].sort((a, b) => b[1] - a[1]).slice(0, top).map(([f, t]) => `${pct(t)}  ${f}`),
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const files = Deno.args.filter((a) => !a.startsWith("--") && !/^\d+$/.test(a));
  const i = Deno.args.indexOf("--top");
  const top = i >= 0 ? Number(Deno.args[i + 1]) : 30;
  for (const f of files) {
    console.log(`== ${f}`);
    console.log(summarize(JSON.parse(Deno.readTextFileSync(f)), top));
  }
}
