// deno-lint-ignore-file no-console
/**
 * `deno task bench --scenario attachments`: upload and download throughput (MiB/s) for 100 KiB
 * and 5 MiB files, and the server's RSS during 20 parallel 5 MiB uploads, for Parley and for a
 * plain `Deno.serve` that streams the same bytes to a file (bench/attachment_baseline.ts), in
 * the same run on the same machine. Only 127.0.0.1; every process it starts is stopped.
 * @module
 */
import type { Options } from "./options.ts";
import { freePort, machine, type Owned, rssBytes, spawn, stop } from "./proc.ts";
import { ROOT, startParley } from "./targets.ts";

const KiB = 1024, MiB = 1024 * 1024;

interface Target {
  name: "parley" | "baseline";
  proc: Owned;
  upload(bytes: Uint8Array): Promise<string>;
  download(ref: string): Promise<number>;
}

export interface AttachmentResult {
  target: string;
  upload100KiBMiBs: number;
  download100KiBMiBs: number;
  upload5MiBMiBs: number;
  download5MiBMiBs: number;
  parallel20x5MiB: { seconds: number; rssBeforeMiB: number | null; rssPeakMiB: number | null };
}

const mib = (b: number | null) => (b === null ? null : Math.round((b / MiB) * 10) / 10);
const round = (n: number) => Math.round(n * 10) / 10;

function payload(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < n; i += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    b[i] = x;
    b[i + 1] = x >>> 8;
    b[i + 2] = x >>> 16;
    b[i + 3] = x >>> 24;
  }
  return b;
}

async function health(http: string, proc: Owned) {
  for (let i = 0; i < 300; i++) {
    if (proc.done) throw new Error(`${proc.name} exited:\n${proc.tail().slice(-2000)}`);
    try {
      const r = await fetch(`${http}/health`);
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.name} did not start`);
}

async function startBaselineFiles(core: number | undefined): Promise<Target> {
  const port = freePort();
  const proc = spawn("baseline", Deno.execPath(), [
    "run",
    "-A",
    `${ROOT}/bench/attachment_baseline.ts`,
    String(port),
    "--exit-on-stdin-eof",
  ], { core, cwd: ROOT, pipeStdin: true });
  const http = `http://127.0.0.1:${port}`;
  await health(http, proc);
  return {
    name: "baseline",
    proc,
    async upload(bytes) {
      const r = await fetch(`${http}/upload`, {
        method: "POST",
        body: bytes as Uint8Array<ArrayBuffer>,
      });
      if (r.status !== 201) throw new Error(`baseline upload ${r.status}`);
      return (await r.json()).id;
    },
    async download(id) {
      const r = await fetch(`${http}/file/${id}`);
      return (await r.arrayBuffer()).byteLength;
    },
  };
}

async function startParleyFiles(core: number | undefined, dir: string): Promise<Target> {
  const server = await startParley(core, `${dir}/parley.kv`, "bench-attachments-secret-0123456789");
  const http = server.http;
  const reg = async (name: string) => {
    const r = await fetch(`${http}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: name, password: "password123" }),
    });
    if (r.status !== 201) throw new Error(`register ${r.status} ${await r.text()}`);
    return await r.json();
  };
  const a = await reg("bench_files_a"), b = await reg("bench_files_b");
  const conv = await fetch(`${http}/api/conversations`, {
    method: "POST",
    headers: { authorization: `Bearer ${a.accessToken}`, "content-type": "application/json" },
    body: JSON.stringify({ kind: "direct", userId: b.user.id }),
  });
  const convId = (await conv.json()).conversation.id;
  const auth = { authorization: `Bearer ${a.accessToken}` };
  return {
    name: "parley",
    proc: server.proc,
    async upload(bytes) {
      const r = await fetch(`${http}/api/conversations/${convId}/attachments?name=f.bin`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/octet-stream" },
        body: bytes as Uint8Array<ArrayBuffer>,
      });
      if (r.status !== 201) throw new Error(`parley upload ${r.status} ${await r.text()}`);
      return (await r.json()).attachment.url;
    },
    async download(url) {
      const r = await fetch(`${http}${url}`, { headers: auth });
      return (await r.arrayBuffer()).byteLength;
    },
  };
}

async function measure(t: Target, log: (...a: unknown[]) => void): Promise<AttachmentResult> {
  const throughput = async (size: number, count: number) => {
    const files = Array.from({ length: count }, (_, i) => payload(size, i + 1));
    let t0 = performance.now();
    const refs: string[] = [];
    for (const f of files) refs.push(await t.upload(f));
    const up = (size * count) / MiB / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (const r of refs) {
      if (await t.download(r) !== size) throw new Error(`${t.name}: short download`);
    }
    const down = (size * count) / MiB / ((performance.now() - t0) / 1000);
    return { up: round(up), down: round(down) };
  };
  log(`${t.name}: 100 KiB × 200`);
  const small = await throughput(100 * KiB, 200);
  log(`${t.name}: 5 MiB × 8`);
  const large = await throughput(5 * MiB, 8);
  log(`${t.name}: 20 parallel 5 MiB uploads`);
  const files = Array.from({ length: 20 }, (_, i) => payload(5 * MiB, 100 + i));
  await new Promise((r) => setTimeout(r, 500));
  const before = rssBytes(t.proc.pid);
  let peak = before ?? 0;
  const sampler = setInterval(() => {
    const r = rssBytes(t.proc.pid);
    if (r !== null && r > peak) peak = r;
  }, 25);
  const t0 = performance.now();
  await Promise.all(files.map((f) => t.upload(f)));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  return {
    target: t.name,
    upload100KiBMiBs: small.up,
    download100KiBMiBs: small.down,
    upload5MiBMiBs: large.up,
    download5MiBMiBs: large.down,
    parallel20x5MiB: {
      seconds: round(seconds),
      rssBeforeMiB: mib(before),
      rssPeakMiB: before === null ? null : mib(peak),
    },
  };
}

/** Runs the scenario for the targets asked for; prints a table and one BENCH_JSON line each. */
export async function runAttachments(opts: Options, serverCore: number | undefined) {
  const log = (...a: unknown[]) => !opts.jsonOnly && console.error("[bench]", ...a);
  const results: (AttachmentResult | { target: string; error: string })[] = [];
  for (const name of opts.targets) {
    const dir = await Deno.makeTempDir({ prefix: "parley-bench-attach-" });
    let target: Target | null = null;
    try {
      target = name === "parley"
        ? await startParleyFiles(serverCore, dir)
        : await startBaselineFiles(serverCore);
      results.push(await measure(target, log));
    } catch (err) {
      results.push({ target: name, error: String((err as Error).message ?? err) });
    } finally {
      if (target) await stop(target.proc);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  if (!opts.jsonOnly) {
    console.log("== attachments ==");
    console.log(
      "target    up 100KiB  down 100KiB  up 5MiB  down 5MiB  20×5MiB s  RSS before→peak MiB",
    );
    for (const r of results) {
      if ("error" in r) {
        console.log(`${r.target.padEnd(9)} failed: ${r.error}`);
        continue;
      }
      console.log(
        `${r.target.padEnd(9)} ${String(r.upload100KiBMiBs).padStart(9)}  ${
          String(r.download100KiBMiBs).padStart(11)
        }  ${String(r.upload5MiBMiBs).padStart(7)}  ${String(r.download5MiBMiBs).padStart(9)}  ${
          String(r.parallel20x5MiB.seconds).padStart(9)
        }  ${r.parallel20x5MiB.rssBeforeMiB} → ${r.parallel20x5MiB.rssPeakMiB}`,
      );
    }
    console.log("(throughput in MiB/s, one client, sequential requests)");
  }
  for (const r of results) {
    console.log(
      `BENCH_JSON ${JSON.stringify({ scenario: "attachments", ...r, machine: machine() })}`,
    );
  }
  return results.some((r) => "error" in r) ? 1 : 0;
}
