/**
 * Collects what the server writes to its log while `fn` runs, at every level. The logger
 * (lib/log.ts) and Deno's own fallback handler both write through `console.error`, so that is
 * where the lines are read: the server keeps logging for real, the lines are kept as well.
 */
// deno-lint-ignore-file no-console
import { setLogLevel } from "../../lib/log.ts";
import { baseLogLevel, sinkLine } from "./logsink.ts";

export interface LogLine {
  level: string;
  msg: string;
  raw: string;
}

/** Runs `fn` with the log level at debug; returns every line written meanwhile. */
export async function captureLogs(fn: () => Promise<void>): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  // Our logger writes JSON through console.error; anything else (a library's console.warn,
  // Deno's report of an uncaught error) is counted at the level of the method that wrote it.
  const methods = { error: "error", warn: "warn", info: "info", log: "info" } as const;
  const originals = new Map<keyof typeof methods, (...args: unknown[]) => void>();
  for (const [name, fallback] of Object.entries(methods) as [keyof typeof methods, string][]) {
    originals.set(name, console[name]);
    console[name] = (...args: unknown[]) => {
      const raw = args.map((a) => typeof a === "string" ? a : String(a)).join(" ");
      sinkLine(raw); // the run's secret scan reads these lines too
      let level: string = fallback, msg = raw;
      try {
        const parsed = JSON.parse(raw);
        level = String(parsed.level);
        msg = String(parsed.msg);
      } catch {
        // Not our logger's JSON.
      }
      lines.push({ level, msg, raw });
    };
  }
  setLogLevel("debug");
  try {
    await fn();
  } finally {
    for (const [name, fn] of originals) console[name] = fn;
    setLogLevel(baseLogLevel());
  }
  return lines;
}

/** What the contract asks to be logged for every request, close and refusal (docs/operations.md). */
const OPERATIONAL = new Set(["request", "socket closed", "security event"]);

/**
 * The lines above debug, besides the access log, the socket close log and security events
 * (which hostile input is meant to produce): with hostile input alone there must be none.
 */
export function aboveDebug(lines: LogLine[]): LogLine[] {
  return lines.filter((l) => l.level !== "debug" && !OPERATIONAL.has(l.msg));
}
