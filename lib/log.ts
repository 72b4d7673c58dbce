/**
 * The one logger: JSON lines on stderr, filtered by LOG_LEVEL. Library code logs through this,
 * never through `console.log`, so output stays machine-readable.
 * @module
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

let threshold: number = LEVELS.info;

/** Sets the lowest level that is written. */
export function setLogLevel(level: string): void {
  threshold = LEVELS[(level in LEVELS ? level : "info") as LogLevel];
}

function write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  if (LEVELS[level] < threshold) return;
  const line = JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields });
  // deno-lint-ignore no-console
  console.error(line);
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};
