// deno-lint-ignore-file no-explicit-any
/**
 * Test harness: the real app on a real port-0 server over a real (in-memory or temporary
 * file) KV, and small real clients for HTTP and WebSocket.
 */
import { type Config, loadConfig } from "../../lib/config.ts";
import type { Message, ServerFrame, User } from "../../lib/protocol.ts";
import { createRuntime, type Runtime } from "../../lib/runtime.ts";
import { openKv } from "../../lib/store/kv.ts";
import { createApp } from "../../routes/mod.ts";
import { asServer, nextServerTag, recordCookie, recordSecret, recordSecretsIn } from "./logsink.ts";

export interface TestServer {
  url: string;
  wsUrl: string;
  rt: Runtime;
  kv: Deno.Kv;
  close(): Promise<void>;
}

/**
 * Starts the app on 127.0.0.1:0 with its own in-memory KV (or `kvPath`). Every test user signs
 * up from 127.0.0.1, so the per-address sign-up limit is raised unless a test sets it.
 */
export async function startServer(
  env: Record<string, string> = {},
  opts: { kv?: Deno.Kv } = {},
): Promise<TestServer> {
  const config: Config = loadConfig({
    KV_PATH: ":memory:",
    LOG_LEVEL: "error",
    REGISTER_LIMIT_PER_HOUR: "1000",
    ...env,
  });
  const kv = opts.kv ?? await openKv(config.kvPath);
  // Its log lines (and those of the timers and watchers it starts) name this server in the
  // run's collected logs (tests/helpers/logsink.ts).
  const tag = nextServerTag();
  const rt = await asServer(tag, () => createRuntime(config, kv));
  const app = createApp(rt);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req, info) => asServer(tag, () => app.fetch(req, info)),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    wsUrl: url.replace("http", "ws") + "/api/ws",
    rt,
    kv,
    async close() {
      await rt.close();
      await server.shutdown();
      if (!opts.kv) kv.close();
    },
  };
}

export interface Account {
  user: User;
  accessToken: string;
  refreshToken: string;
  cookie: string;
}

/** Runs `fn` against a fresh server (`env` as for `startServer`), always closed afterwards. */
export async function withServer(
  fn: (srv: TestServer) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const srv = await startServer(env);
  try {
    await fn(srv);
  } finally {
    await srv.close();
  }
}

let userCounter = 0;

/** A unique valid username. */
export function uniqueName(prefix = "user"): string {
  return `${prefix}_${Date.now().toString(36)}${(++userCounter).toString(36)}`.slice(0, 32);
}

/** Calls the JSON API; returns status and parsed body. */
export async function api(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; cookie?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  recordSecret("accessToken", opts.token);
  recordCookie(opts.cookie);
  recordSecretsIn(opts.body);
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(base + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    redirect: "manual",
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  recordSecretsIn(body);
  recordCookie(res.headers.get("set-cookie"));
  return { status: res.status, body, headers: res.headers };
}

/** Registers a fresh user through the API. */
export async function register(base: string, name = uniqueName(), password = "password123") {
  const res = await api(base, "POST", "/api/auth/register", {
    body: { username: name, password, displayName: name.replace(/_/g, " ") },
  });
  if (res.status !== 201) {
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const setCookie = res.headers.get("set-cookie") ?? "";
  return {
    user: res.body.user,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    cookie: setCookie.split(";")[0],
  } as Account;
}

/** Posts a form as a browser would (Origin of the server itself unless told), no redirects. */
export async function postForm(
  srv: { url: string },
  path: string,
  fields: Record<string, string>,
  opts: { origin?: string | null; cookie?: string } = {},
) {
  const headers: Record<string, string> = {};
  const origin = opts.origin === undefined ? srv.url : opts.origin;
  if (origin) headers.origin = origin;
  if (opts.cookie) headers.cookie = opts.cookie;
  recordCookie(opts.cookie);
  recordSecretsIn(fields);
  const res = await fetch(srv.url + path, {
    method: "POST",
    headers,
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
  recordCookie(res.headers.get("set-cookie"));
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** GETs a page, optionally with a cookie, without following redirects. */
export async function getPage(srv: { url: string }, path: string, cookie?: string) {
  recordCookie(cookie);
  const res = await fetch(srv.url + path, {
    headers: cookie ? { cookie } : {},
    redirect: "manual",
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Two fresh users and their direct conversation. */
export async function directPair(base: string) {
  const [alice, bob] = await Promise.all([register(base), register(base)]);
  const res = await api(base, "POST", "/api/conversations", {
    token: alice.accessToken,
    body: { kind: "direct", userId: bob.user.id },
  });
  if (res.status !== 201) throw new Error(`direct conversation failed: ${res.status}`);
  return { alice, bob, convId: res.body.conversation.id as string };
}

/** A real WebSocket client that records every frame (arrays flattened) and can wait for one. */
export class WsClient {
  frames: any[] = [];
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  ready!: { userId: string; connectionId: string };
  #waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];

  private constructor(url: string, protocols?: string[] | { headers: Record<string, string> }) {
    this.socket = protocols && !Array.isArray(protocols)
      ? new (WebSocket as any)(url, protocols)
      : new WebSocket(url);
    this.socket.onmessage = (e) => {
      const data = JSON.parse(e.data);
      for (const f of Array.isArray(data) ? data : [data]) this.#push(f);
    };
    this.closed = new Promise((resolve) => {
      this.socket.onclose = (e) => resolve({ code: e.code, reason: e.reason });
    });
  }

  #push(frame: any) {
    this.frames.push(frame);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pred(frame)) return true;
      w.resolve(frame);
      return false;
    });
  }

  /** Connects with `?token=` and waits for `ready`. */
  static async connect(
    wsUrl: string,
    token: string,
    opts: { headers?: Record<string, string>; readyTimeoutMs?: number } = {},
  ) {
    recordSecret("accessToken", token);
    const c = new WsClient(
      `${wsUrl}?token=${encodeURIComponent(token)}`,
      opts.headers ? { headers: opts.headers } : undefined,
    );
    c.ready = await c.next((f) => f.type === "ready", opts.readyTimeoutMs);
    return c;
  }

  /** Waits for the first frame (already received or future) that matches. */
  next(pred: (f: any) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<any> {
    const seen = this.frames.slice(fromIndex).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `timed out waiting for a frame; have: ${JSON.stringify(this.frames.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      const done = (f: any) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.#waiters.push({ pred, resolve: done });
    });
  }

  /** Waits until `count` frames match. */
  async waitCount(pred: (f: any) => boolean, count: number, timeoutMs = 10_000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const got = this.frames.filter(pred);
      if (got.length >= count) return got;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`expected ${count} frames, got ${this.frames.filter(pred).length}`);
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Sends a message and waits for its ack or error. */
  async sendMessage(conversationId: string, body: string, id = crypto.randomUUID()): Promise<any> {
    const from = this.frames.length;
    this.send({ type: "send", id, conversationId, body });
    return await this.next(
      (f) => (f.type === "ack" || f.type === "error") && f.id === id,
      10_000,
      from,
    );
  }

  /** Sends a message, waiting out the rate limit, until it is acked. */
  async sendAcked(conversationId: string, body: string, id = crypto.randomUUID()): Promise<any> {
    for (;;) {
      const res = await this.sendMessage(conversationId, body, id);
      if (res.type === "ack") return res;
      if (res.error?.code !== "rate_limited") {
        throw new Error(`send refused: ${JSON.stringify(res)}`);
      }
      await new Promise((r) => setTimeout(r, res.error.retryAfterMs));
    }
  }

  messages(conversationId?: string): Message[] {
    return this.frames.filter((f) =>
      f.type === "message" && (!conversationId || f.message.conversationId === conversationId)
    )
      .map((f) => f.message);
  }

  async close(): Promise<void> {
    if (this.socket.readyState < 2) this.socket.close(1000);
    await this.closed;
  }
}

export type { ServerFrame };
