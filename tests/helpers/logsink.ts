/**
 * Keeps every test server's log lines for the end-of-run secret scan (`tests/helpers/log_scan.ts`,
 * run by `scripts/test.ts` after `deno test`). `scripts/test.ts` sets `PARLEY_TEST_LOG_DIR`; with
 * it unset (a bare `deno test`) nothing here changes how tests run.
 *
 * - In-process servers (`startServer`) log through `console.error`, so this module tees it: every
 *   line goes to `inproc-<pid>-<isolate>.log`, tagged with the server that wrote it (an
 *   `AsyncLocalStorage` context set around each server's start and requests), and only what the
 *   console showed before (level `TEST_LOG_LEVEL`, default error, or not our JSON) still goes on
 *   to it. The logger runs at debug meanwhile, so the scan sees every line a server can write.
 * - Child servers (`spawnServer`) run with `LOG_LEVEL=debug`; their stdout and stderr go to
 *   `child-<tag>.log`, and their error lines on to the test's stderr as `inherit` did.
 * - Helpers that see a password or token (sign-up, sign-in, refresh, cookies) `recordSecret` it
 *   into `*.secrets.jsonl`, so the scan looks for the exact strings as well as their shapes.
 *
 * Every file is opened at import time or written with one append per call: no test owns a
 * resource of this module, so the resource sanitizer has nothing to report.
 * @module
 */
// deno-lint-ignore-file no-console
import { AsyncLocalStorage } from "node:async_hooks";
import { setLogLevel } from "../../lib/log.ts";

/** Where the logs of this run go; null when not collecting. */
export const LOG_DIR: string | null = Deno.env.get("PARLEY_TEST_LOG_DIR") || null;

const RANK: Record<string, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
/** What the console shows, as before this module: `TEST_LOG_LEVEL`, default error. */
const SHOWN = Deno.env.get("TEST_LOG_LEVEL") ?? "error";

/** The level the logger runs at in this process: everything while collecting. */
export function baseLogLevel(): string {
  return LOG_DIR ? "debug" : SHOWN;
}

/** This module instance: `deno test` runs each test file in its own isolate of one process. */
const instance = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
const serverContext = new AsyncLocalStorage<string>();
let servers = 0;
const encoder = new TextEncoder();

/** A name for the next server of this test isolate. */
export function nextServerTag(kind = "inproc"): string {
  return `${kind}-${instance}-${++servers}`;
}

/** Runs `fn` (a server's start, or one of its requests) so that its log lines name `tag`. */
export function asServer<T>(tag: string, fn: () => T): T {
  return serverContext.run(tag, fn);
}

/** True when a line is shown on the console: not our JSON, or at or above the shown level. */
function shown(raw: string): boolean {
  if (!raw.startsWith("{")) return true;
  try {
    const level = JSON.parse(raw).level;
    return typeof level !== "string" || (RANK[level] ?? 100) >= (RANK[SHOWN] ?? 40);
  } catch {
    return true;
  }
}

if (LOG_DIR) Deno.mkdirSync(LOG_DIR, { recursive: true });
const inproc = LOG_DIR
  ? Deno.openSync(`${LOG_DIR}/inproc-${instance}.log`, { create: true, append: true })
  : null;

/** Writes one in-process log line to this run's files, tagged with its server (or none). */
export function sinkLine(raw: string): void {
  if (!inproc) return;
  const server = serverContext.getStore() ?? "";
  inproc.writeSync(encoder.encode(JSON.stringify({ server, line: raw }) + "\n"));
}

if (LOG_DIR) {
  for (const name of ["error", "warn"] as const) {
    const original = console[name];
    console[name] = (...args: unknown[]) => {
      const raw = args.map((a) => typeof a === "string" ? a : String(a)).join(" ");
      sinkLine(raw);
      if (shown(raw)) original(...args);
    };
  }
}
setLogLevel(baseLogLevel());

const recorded = new Set<string>();

/**
 * Notes a secret the tests used (a password, a token, a cookie value) so that the scan looks
 * for it verbatim. Short strings are left out: they could turn up by chance.
 */
export function recordSecret(kind: string, value: unknown): void {
  if (!LOG_DIR || typeof value !== "string" || value.length < 8 || recorded.has(value)) return;
  recorded.add(value);
  Deno.writeTextFileSync(
    `${LOG_DIR}/${instance}.secrets.jsonl`,
    JSON.stringify({ kind, value }) + "\n",
    { append: true },
  );
}

/** Records the secrets in a JSON body sent to or received from the API. */
export function recordSecretsIn(body: unknown): void {
  if (!LOG_DIR || body === null || typeof body !== "object") return;
  const b = body as Record<string, unknown>;
  for (const k of ["password", "currentPassword", "newPassword"]) recordSecret("password", b[k]);
  for (const k of ["accessToken", "refreshToken"]) recordSecret(k, b[k]);
}

/** Records the session cookie's value from a `Set-Cookie` or `Cookie` header. */
export function recordCookie(header: string | null | undefined): void {
  if (!header) return;
  for (const m of header.matchAll(/parley_session=([^;,\s]+)/g)) recordSecret("cookie", m[1]);
}

export interface LoggedChild {
  child: Deno.ChildProcess;
  /** Resolves once the child's output has been read to its end (after it exits). */
  drained: Promise<void>;
}

/**
 * Spawns a server process (`deno serve …` or a script that runs one). While collecting, it
 * logs at debug into this run's `child-<tag>.log` and its error lines reach the test's stderr;
 * otherwise stdout is dropped and stderr inherited (or dropped with `quiet`), as before.
 */
export function spawnServer(
  opts: { args: string[]; cwd: string; env: Record<string, string>; quiet?: boolean },
): LoggedChild {
  if (!LOG_DIR) {
    const child = new Deno.Command(Deno.execPath(), {
      args: opts.args,
      cwd: opts.cwd,
      env: opts.env,
      stdin: "null",
      stdout: "null",
      stderr: opts.quiet ? "null" : "inherit",
    }).spawn();
    return { child, drained: Promise.resolve() };
  }
  const path = `${LOG_DIR}/${nextServerTag("child")}.log`;
  recordSecret("JWT_SECRET", opts.env.JWT_SECRET);
  const child = new Deno.Command(Deno.execPath(), {
    args: opts.args,
    cwd: opts.cwd,
    env: { ...opts.env, LOG_LEVEL: "debug", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pump = async (stream: ReadableStream<Uint8Array>, forward: boolean) => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of stream) {
      Deno.writeFileSync(path, chunk, { append: true });
      if (!forward || opts.quiet) continue;
      const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) {
        if (shown(l.replace(/^\[serve-worker-\d+ *\] /, ""))) {
          Deno.stderr.writeSync(encoder.encode(l + "\n"));
        }
      }
    }
  };
  const drained = Promise.all([pump(child.stdout, false), pump(child.stderr, true)]).then(
    () => {},
  );
  return { child, drained };
}

/** Keeps the output of a server process that a test read itself (as `spawnServer` would). */
export function keepChildLog(text: string): void {
  if (!LOG_DIR) return;
  Deno.writeTextFileSync(`${LOG_DIR}/${nextServerTag("child")}.log`, text);
}
