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

/** The security events of the contract: log lines with an `event` field, never a secret. */
export type SecurityEvent =
  | "login_failed"
  | "login_throttled"
  | "register_limited"
  | "refresh_reuse"
  | "origin_refused"
  | "csrf_refused"
  | "ws_abuse_closed"
  | "password_changed"
  | "session_revoked"
  | "account_deleted";

const NOTICE: ReadonlySet<SecurityEvent> = new Set([
  "password_changed",
  "session_revoked",
  "account_deleted",
]);

/**
 * Logs a security event (warn for refusals and abuse, info for account changes). The fields
 * name who and where (user id, username, address, origin), never a password, token, cookie or
 * message body.
 * @example
 * securityEvent("login_failed", { username, addr });
 */
export function securityEvent(event: SecurityEvent, fields: Record<string, unknown> = {}): void {
  write(NOTICE.has(event) ? "info" : "warn", "security event", { event, ...fields });
}
