/**
 * Configuration from the environment. Nothing secret has a default: an unset JWT_SECRET is
 * generated once and kept in KV (see `resolveSecret` in `auth/tokens.ts`), so every isolate and restart agrees.
 * @module
 */
export interface Config {
  port: number;
  host: string;
  /** A file path, `:memory:` (one isolate only), an http(s) URL of a remote KV, or "" for the
   * platform's default KV (Deno Deploy). */
  kvPath: string;
  jwtSecret: string | null;
  /** Origins besides the server's own that may open WebSockets and post forms. */
  allowedOrigins: string[];
  logLevel: string;
  /** BroadcastChannel fast path between isolates; KV watch works without it. */
  broadcast: boolean;
  /** Close a WebSocket that sent nothing for this long (code 4002). */
  heartbeatTimeoutMs: number;
  accessTokenTtlSec: number;
  sessionTtlSec: number;
  /** The longest a session may live however active it is (SESSION_MAX_SEC): sliding renewals
   * stop there. */
  sessionMaxSec: number;
  /** Accounts one client address may create per hour (0: no limit). */
  registrationsPerHour: number;
  /** Reverse proxies in front of the server whose X-Forwarded-For is trusted (0: none). */
  trustProxyHops: number;
  /** Largest upload, in bytes (ATTACHMENT_MAX_BYTES). */
  attachmentMaxBytes: number;
  /** Bytes one user may upload per quota window (ATTACHMENT_QUOTA_BYTES). */
  attachmentQuotaBytes: number;
  /** The quota window, from a user's first upload in it (ATTACHMENT_QUOTA_WINDOW_SEC). */
  attachmentQuotaWindowMs: number;
  /** Open sockets one user may hold across the server (0: no cap; past it: close 4003). */
  maxSocketsPerUser: number;
  /** Open sockets one client address may hold across the server (0: no cap, the default). */
  maxSocketsPerAddress: number;
  /** Bytes queued for slow readers over all of one isolate's sockets; past it the biggest
   * queue's socket is closed with 1008. */
  queuedBytesTotal: number;
  /** Bearer token that opens /metrics from anywhere; null: loopback peers only. */
  metricsToken: string | null;
  /** How often each isolate writes its metrics snapshot to KV. */
  metricsIntervalMs: number;
  /** How long a shutdown waits for sends already being committed before closing sockets. */
  drainMs: number;
}

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"];
const ON = ["1", "true", "on", "yes"];
const OFF = ["0", "false", "off", "no"];

function port(n: number): number {
  if (!Number.isInteger(n) || n > 65535) {
    throw new Error("PORT must be a whole number from 0 to 65535.");
  }
  return n;
}

/**
 * A setting with a fixed set of values (case-insensitive). An unknown value is an error that
 * names the variable: a typo must not silently become the default.
 */
function oneOf(
  env: Record<string, string | undefined>,
  name: string,
  allowed: string[],
  fallback: string,
): string {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = raw.trim().toLowerCase();
  if (!allowed.includes(value)) {
    throw new Error(`${name} must be one of ${allowed.join(", ")}; it is "${raw}".`);
  }
  return value;
}

/** Reads the configuration; `env` is injectable so tests never mutate the process. */
export function loadConfig(env: Record<string, string | undefined> = Deno.env.toObject()): Config {
  const int = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number.`);
    return n;
  };
  return {
    port: port(int("PORT", 8000)),
    host: env.HOST || "0.0.0.0",
    // On Deno Deploy an empty path opens the project's managed, distributed KV.
    kvPath: env.KV_PATH || (env.DENO_DEPLOYMENT_ID ? "" : "./data/parley.kv"),
    jwtSecret: env.JWT_SECRET || null,
    allowedOrigins: (env.ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    logLevel: oneOf(env, "LOG_LEVEL", LOG_LEVELS, "info"),
    broadcast: ON.includes(oneOf(env, "BROADCAST", [...ON, ...OFF], "on")),
    heartbeatTimeoutMs: int("HEARTBEAT_TIMEOUT_MS", 60_000),
    accessTokenTtlSec: int("ACCESS_TOKEN_TTL_SEC", 15 * 60),
    sessionTtlSec: int("SESSION_TTL_SEC", 30 * 24 * 3600),
    sessionMaxSec: int("SESSION_MAX_SEC", 180 * 24 * 3600),
    registrationsPerHour: int("REGISTER_LIMIT_PER_HOUR", 30),
    trustProxyHops: Math.floor(int("TRUST_PROXY_HOPS", 0)),
    attachmentMaxBytes: Math.floor(int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)),
    attachmentQuotaBytes: Math.floor(int("ATTACHMENT_QUOTA_BYTES", 200 * 1024 * 1024)),
    attachmentQuotaWindowMs: Math.floor(int("ATTACHMENT_QUOTA_WINDOW_SEC", 24 * 3600)) * 1000,
    maxSocketsPerUser: Math.floor(int("MAX_SOCKETS_PER_USER", 20)),
    maxSocketsPerAddress: Math.floor(int("MAX_SOCKETS_PER_ADDRESS", 0)),
    queuedBytesTotal: Math.floor(int("QUEUED_MB_TOTAL", 256) * 1024 * 1024),
    metricsToken: env.METRICS_TOKEN || null,
    metricsIntervalMs: Math.max(1000, int("METRICS_INTERVAL_MS", 5000)),
    drainMs: Math.min(4000, int("DRAIN_MS", 2000)),
  };
}
