/**
 * Collects what the server writes to its log while `fn` runs, at every level. The logger
 * (lib/log.ts) and Deno's own fallback handler both write through `console.error`, so that is
 * where the lines are read: the server keeps logging for real, the lines are kept as well.
 */
// deno-lint-ignore-file no-console
import { setLogLevel } from "../../lib/log.ts";

export interface LogLine {
  level: string;
  msg: string;
  raw: string;
}

/** Runs `fn` with the log level at debug; returns every line written meanwhile. */
export async function captureLogs(fn: () => Promise<void>): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    const raw = args.map((a) => typeof a === "string" ? a : String(a)).join(" ");
    let level = "error", msg = raw;
    try {
      const parsed = JSON.parse(raw);
      level = String(parsed.level);
      msg = String(parsed.msg);
    } catch {
      // Not our logger's JSON: Deno's own report of an uncaught error, so an error.
    }
    lines.push({ level, msg, raw });
  };
  setLogLevel("debug");
  try {
    await fn();
  } finally {
    console.error = original;
    setLogLevel(Deno.env.get("TEST_LOG_LEVEL") ?? "error");
  }
  return lines;
}

/** The lines above debug: with hostile input alone there must be none. */
export function aboveDebug(lines: LogLine[]): LogLine[] {
  return lines.filter((l) => l.level !== "debug");
}
