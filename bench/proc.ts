/**
 * Processes the generator starts and watches: spawning pinned to a core, reading RSS and CPU
 * time from /proc, and stopping exactly the processes it started (by PID, SIGTERM then SIGKILL).
 * @module
 */

let tasksetPath: string | null | undefined;

/** The path of `taskset`, or null when it is not installed. */
export function taskset(): string | null {
  if (tasksetPath !== undefined) return tasksetPath;
  tasksetPath = null;
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      const p = `${dir}/taskset`;
      if (Deno.statSync(p).isFile) {
        tasksetPath = p;
        break;
      }
    } catch { /* not here */ }
  }
  return tasksetPath;
}

/** A child process the generator owns, with the tail of its output kept for error messages. */
export interface Owned {
  name: string;
  child: Deno.ChildProcess;
  pid: number;
  /** Last few KiB of stdout+stderr (only when output is captured). */
  tail: () => string;
  exited: Promise<Deno.CommandStatus>;
  done: boolean;
}

const owned = new Set<Owned>();

/** Every process still running that this generator started. */
export function ownedProcesses(): Owned[] {
  return [...owned].filter((o) => !o.done);
}

async function drainInto(stream: ReadableStream<Uint8Array>, keep: { text: string }) {
  const dec = new TextDecoder();
  try {
    for await (const chunk of stream) {
      keep.text = (keep.text + dec.decode(chunk, { stream: true })).slice(-8192);
    }
  } catch { /* the process went away */ }
}

/**
 * Spawns `cmd args` pinned to `core` with taskset when it exists (taskset execs the command,
 * so the PID is the command's own). stdout/stderr are captured and discarded except for a
 * short tail, unless `stdio` asks for pipes the caller reads.
 */
export function spawn(
  name: string,
  cmd: string,
  args: string[],
  opts: {
    core?: number;
    env?: Record<string, string>;
    cwd?: string;
    pipeStdin?: boolean;
    readStdout?: boolean;
  } = {},
): Owned {
  const ts = opts.core !== undefined ? taskset() : null;
  const full = ts ? [ts, "-c", String(opts.core), cmd, ...args] : [cmd, ...args];
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    env: opts.env,
    cwd: opts.cwd,
    stdin: opts.pipeStdin ? "piped" : "null",
    stdout: "piped",
    stderr: opts.readStdout ? "inherit" : "piped",
  }).spawn();
  const keep = { text: "" };
  if (!opts.readStdout) {
    drainInto(child.stdout, keep);
    drainInto(child.stderr, keep);
  }
  const o: Owned = {
    name,
    child,
    pid: child.pid,
    tail: () => keep.text,
    exited: child.status,
    done: false,
  };
  owned.add(o);
  o.exited.then(() => {
    o.done = true;
  });
  return o;
}

/** Stops one owned process: SIGTERM, then SIGKILL when it is still there after `graceMs`. */
export async function stop(o: Owned, graceMs = 5000): Promise<void> {
  if (o.done) return;
  try {
    o.child.kill("SIGTERM");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (!o.done) {
        try {
          o.child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      resolve();
    }, graceMs);
  });
  await Promise.race([o.exited.then(() => {}), killed]);
  clearTimeout(timer);
  await o.exited.catch(() => {});
}

/** Stops every process this generator started and has not yet stopped. */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all(ownedProcesses().map((o) => stop(o, graceMs)));
}

/** Synchronous last resort (from a watchdog or a signal): SIGKILL everything still owned. */
export function killAllNow(): void {
  for (const o of ownedProcesses()) {
    try {
      o.child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
}

const CLK_TCK = 100;

/** The PIDs of a process and its descendants (deno serve may fork; usually just itself). */
function tree(pid: number): number[] {
  const out = [pid];
  try {
    for (const tid of Deno.readDirSync(`/proc/${pid}/task`)) {
      const kids = Deno.readTextFileSync(`/proc/${pid}/task/${tid.name}/children`).trim();
      if (kids) { for (const k of kids.split(/\s+/)) out.push(...tree(Number(k))); }
    }
  } catch { /* gone, or no /proc */ }
  return out;
}

/** Resident set size of a process tree in bytes, or null when unreadable. */
export function rssBytes(pid: number): number | null {
  let total = 0;
  let any = false;
  for (const p of tree(pid)) {
    try {
      const m = Deno.readTextFileSync(`/proc/${p}/status`).match(/^VmRSS:\s+(\d+)\s+kB/m);
      if (m) {
        total += Number(m[1]) * 1024;
        any = true;
      }
    } catch { /* gone */ }
  }
  return any ? total : null;
}

/** CPU seconds (user + system) a process tree has used so far, or null when unreadable. */
export function cpuSeconds(pid: number): number | null {
  let ticks = 0;
  let any = false;
  for (const p of tree(pid)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${p}/stat`);
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(rest[11]) + Number(rest[12]);
      any = true;
    } catch { /* gone */ }
  }
  return any ? ticks / CLK_TCK : null;
}

/** A CPU-time reading to compare with a later one. */
export interface CpuMark {
  wall: number;
  cpu: number | null;
}

export function cpuMark(pid: number): CpuMark {
  return { wall: performance.now(), cpu: cpuSeconds(pid) };
}

/** CPU use between two marks as a percentage of one core. */
export function cpuPercent(a: CpuMark, b: CpuMark): number | null {
  if (a.cpu === null || b.cpu === null || b.wall <= a.wall) return null;
  return Math.round(((b.cpu - a.cpu) / ((b.wall - a.wall) / 1000)) * 1000) / 10;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Splits a byte stream into text lines. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

/** The machine, for the report. */
export function machine(): { nproc: number; cpuModel: string; memGiB: number; deno: string } {
  let cpuModel = "unknown";
  let memGiB = 0;
  try {
    cpuModel = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m)?.[1] ??
      cpuModel;
    const kb = Deno.readTextFileSync("/proc/meminfo").match(/^MemTotal:\s+(\d+)/m)?.[1];
    if (kb) memGiB = Math.round(Number(kb) / 1024 / 1024);
  } catch { /* no /proc */ }
  return {
    nproc: navigator.hardwareConcurrency,
    cpuModel,
    memGiB,
    deno: Deno.version.deno,
  };
}

/** Busy CPU seconds of the whole machine so far (all cores), or null without /proc. */
export function hostBusySeconds(): number | null {
  try {
    const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
      .map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - f[3] - f[4]) / CLK_TCK; // minus idle and iowait
  } catch {
    return null;
  }
}

export function hostMark(): CpuMark {
  return { wall: performance.now(), cpu: hostBusySeconds() };
}

/**
 * CPU seconds per thread name over a process tree (threads of one name summed: tokio's
 * workers, V8's platform threads). The V8 profile shows only the JavaScript thread; this says
 * how much went to the others (KV's SQLite writer `sw-0`, the runtime's I/O threads).
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of tree(pid)) {
    let tids: Deno.DirEntry[];
    try {
      tids = [...Deno.readDirSync(`/proc/${p}/task`)];
    } catch {
      continue;
    }
    for (const t of tids) {
      try {
        const stat = Deno.readTextFileSync(`/proc/${p}/task/${t.name}/stat`);
        const open = stat.indexOf("(");
        const close = stat.lastIndexOf(")");
        // The main thread carries the process's name; call it what it runs.
        const name = t.name === String(p) ? "main (JS)" : stat.slice(open + 1, close);
        const rest = stat.slice(close + 2).split(" ");
        const s = (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
        out.set(name, (out.get(name) ?? 0) + s);
      } catch { /* thread gone */ }
    }
  }
  return out;
}

/** CPU % of one core per thread name between two readings (names under 0.5% left out). */
export function threadCpuPercent(
  a: Map<string, number>,
  b: Map<string, number>,
  seconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, s] of b) {
    const pct = Math.round(((s - (a.get(name) ?? 0)) / seconds) * 1000) / 10;
    if (pct >= 0.5) out[name] = pct;
  }
  return Object.fromEntries(Object.entries(out).sort((x, y) => y[1] - x[1]));
}
