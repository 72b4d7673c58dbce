// deno-lint-ignore-file no-explicit-any
/**
 * A restart under load, as an operator does it: SIGTERM to the launcher (`scripts/serve.ts`,
 * the container's entrypoint) while clients send, then a new server on the same KV file.
 * Clients behave as the real one does: unacked sends are sent again with the same id after a
 * reconnect, and each conversation is synced from the last seq held. No acked message may be
 * lost, every client must come back and catch up, and the old server must drain (`/ready` 503
 * `draining`, sockets closed 1001) and exit by itself within 5 s.
 */
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { api, register } from "../helpers/server.ts";
import { freePort, root } from "../helpers/net.ts";
import { spawnServer } from "../helpers/logsink.ts";

function launch(port: number, kvPath: string) {
  return spawnServer({
    args: ["run", "-A", "scripts/serve.ts"],
    cwd: root,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      KV_PATH: kvPath,
      DENO_JOBS: "2",
      DRAIN_MS: "1500",
      LOG_LEVEL: "error",
      REGISTER_LIMIT_PER_HOUR: "0",
    },
  }).child;
}

async function waitReady(url: string) {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(`${url}/ready`);
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the server did not become ready");
}

/** A client that reconnects, resends what was not acked and syncs, like client/connection.ts. */
class ReconnectingClient {
  acked = new Map<string, number>();
  pending = new Map<string, { convId: string; body: string }>();
  /** conversation → seq → message id, from live frames and syncs. */
  seen = new Map<string, Map<number, string>>();
  closes: number[] = [];
  errors: any[] = [];
  connects = 0;
  #ws: WebSocket | null = null;
  #open = false;
  #stopped = false;
  #syncWaiters = new Map<string, (f: any) => void>();

  constructor(readonly wsUrl: string, readonly token: string, readonly convIds: string[]) {
    for (const c of convIds) this.seen.set(c, new Map());
  }

  get open() {
    return this.#open;
  }

  lastSeq(convId: string): number {
    let max = 0;
    for (const seq of this.seen.get(convId)!.keys()) if (seq > max) max = seq;
    return max;
  }

  async run() {
    while (!this.#stopped) {
      try {
        await this.#session();
      } catch { /* refused or dropped: try again */ }
      if (!this.#stopped) await new Promise((r) => setTimeout(r, 100 + Math.random() * 100));
    }
  }

  #session(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.wsUrl}?token=${encodeURIComponent(this.token)}`);
      this.#ws = ws;
      ws.onerror = () => {};
      ws.onclose = (e) => {
        if (this.#open) this.closes.push(e.code);
        this.#open = false;
        resolve();
      };
      ws.onmessage = (e) => {
        const data = JSON.parse(e.data);
        for (const f of Array.isArray(data) ? data : [data]) this.#frame(f).catch(reject);
      };
    });
  }

  async #frame(f: any) {
    if (f.type === "ready") {
      this.#open = true;
      this.connects++;
      for (const [id, p] of this.pending) this.#sendFrame(id, p.convId, p.body);
      for (const convId of this.convIds) {
        for (;;) {
          const page = await this.#sync(convId, this.lastSeq(convId));
          for (const m of page.messages) this.seen.get(convId)!.set(m.seq, m.id);
          if (!page.hasMore) break;
        }
      }
    } else if (f.type === "ack") {
      this.pending.delete(f.id);
      this.acked.set(f.id, f.seq);
      this.seen.get(f.conversationId)?.set(f.seq, f.id);
    } else if (f.type === "message") {
      this.seen.get(f.message.conversationId)?.set(f.message.seq, f.message.id);
    } else if (f.type === "error" && f.id && this.pending.has(f.id)) {
      if (f.error.code !== "rate_limited") this.errors.push(f);
      const p = this.pending.get(f.id)!;
      setTimeout(() => this.#open && this.#sendFrame(f.id, p.convId, p.body), f.error.retryAfterMs);
    } else if (f.type === "messages") {
      this.#syncWaiters.get(f.reqId)?.(f);
    }
  }

  #sync(convId: string, afterSeq: number): Promise<any> {
    const reqId = crypto.randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("sync timed out")), 10_000);
      this.#syncWaiters.set(reqId, (f) => {
        clearTimeout(timer);
        this.#syncWaiters.delete(reqId);
        resolve(f);
      });
      this.#ws!.send(JSON.stringify({ type: "sync", conversationId: convId, afterSeq, reqId }));
    });
  }

  #sendFrame(id: string, convId: string, body: string) {
    try {
      this.#ws?.send(JSON.stringify({ type: "send", id, conversationId: convId, body }));
    } catch { /* closed: sent again after the reconnect */ }
  }

  /** Queues a message; it is sent now if connected, else after the next `ready`. */
  send(convId: string, body: string) {
    const id = crypto.randomUUID();
    this.pending.set(id, { convId, body });
    if (this.#open) this.#sendFrame(id, convId, body);
  }

  stop() {
    this.#stopped = true;
    try {
      this.#ws?.close(1000);
    } catch { /* gone */ }
  }
}

async function until(pred: () => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test({
  name: "a SIGTERM restart under load loses no acked message; every client comes back caught up",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "parley-restart-" });
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const wsUrl = `ws://127.0.0.1:${port}/api/ws`;
    let server = launch(port, `${dir}/parley.kv`);
    const clients: ReconnectingClient[] = [];
    try {
      await waitReady(url);
      const people = await Promise.all(
        Array.from({ length: 6 }, () => register(url)),
      );
      const group = await api(url, "POST", "/api/conversations", {
        token: people[0].accessToken,
        body: { kind: "group", title: "Restart", memberIds: people.slice(1).map((p) => p.user.id) },
      });
      const convId = group.body.conversation.id;
      for (const p of people) {
        const c = new ReconnectingClient(wsUrl, p.accessToken, [convId]);
        clients.push(c);
        c.run();
      }
      await until(() => clients.every((c) => c.open), "every client connected");

      // Load: every client sends every 150 ms (under the per-user limit) until told to stop.
      let load = true;
      const senders = clients.map(async (c, i) => {
        for (let n = 0; load; n++) {
          c.send(convId, `c${i} #${n}`);
          await new Promise((r) => setTimeout(r, 150));
        }
      });
      await until(() => clients.every((c) => c.acked.size >= 10), "acks before the restart");

      // The restart: SIGTERM to the launcher, watching /ready while it drains.
      const readyAnswers: string[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          try {
            const res = await fetch(`${url}/ready`);
            const body = await res.json();
            readyAnswers.push(`${res.status} ${body.status}`);
          } catch {
            readyAnswers.push("no answer");
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const t0 = Date.now();
      server.kill("SIGTERM");
      const status = await server.status;
      const stoppedIn = Date.now() - t0;
      equal(status.code, 0, "the old server exits cleanly");
      ok(stoppedIn < 5000, `the old server exits within 5 s (${stoppedIn} ms)`);
      ok(
        readyAnswers.includes("503 draining"),
        `/ready says draining: ${[...new Set(readyAnswers)]}`,
      );
      const firstDraining = readyAnswers.indexOf("503 draining");
      ok(
        !readyAnswers.slice(firstDraining).some((a) => a.startsWith("200")),
        "never ready again once draining",
      );
      await until(() => clients.every((c) => c.closes.length >= 1), "every socket closed");
      for (const c of clients) equal(c.closes[0], 1001, "closed as going away");

      server = launch(port, `${dir}/parley.kv`);
      await waitReady(url);
      watching = false;
      await watcher;
      await until(() => clients.every((c) => c.connects >= 2 && c.open), "every client back");
      await new Promise((r) => setTimeout(r, 500));
      load = false;
      await Promise.all(senders);
      await until(
        () => clients.every((c) => c.pending.size === 0),
        "every message acked in the end",
      );

      // The truth, from KV through the API, against what every client was acked and holds.
      const history = new Map<number, string>();
      for (let after = 0;;) {
        const page = await api(
          url,
          "GET",
          `/api/conversations/${convId}/messages?after=${after}&limit=100`,
          {
            token: people[0].accessToken,
          },
        );
        for (const m of page.body.messages) history.set(m.seq, m.id);
        if (!page.body.hasMore) break;
        after = page.body.messages.at(-1).seq;
      }
      let acked = 0;
      for (const c of clients) {
        for (const [id, seq] of c.acked) {
          equal(history.get(seq), id, `acked message ${id} at seq ${seq} is stored`);
          acked++;
        }
      }
      const ids = [...history.values()];
      equal(new Set(ids).size, ids.length, "no message stored twice");
      const head = Math.max(...history.keys());
      await until(
        () => clients.every((c) => c.lastSeq(convId) === head),
        "every client caught up to the head",
      );
      for (const c of clients) {
        for (const [seq, id] of c.seen.get(convId)!) equal(history.get(seq), id);
      }
      ok(acked > 60, `a real load went through (${acked} acked)`);
      eq(clients.flatMap((c) => c.errors), [], "no send refused but for the rate limit");
      eq(clients.map((c) => c.closes[0]), clients.map(() => 1001));
    } finally {
      for (const c of clients) c.stop();
      try {
        server.kill("SIGTERM");
      } catch { /* exited */ }
      await server.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
