/**
 * Crash probe: the real server under `deno serve --parallel` (2 isolates) on a KV file, 30
 * clients in 3 groups sending all along, and the whole process SIGKILLed twice mid-run and
 * restarted on the same file. The clients behave as the real one does: they resend every
 * unacked message under its id after reconnecting, sync each conversation from the last seq
 * they hold on `ready`, and sync a gap when one shows.
 *
 * Holds afterwards: every acked message is in history exactly once, under the seq of its ack;
 * every message a client sent was acked in the end (none silently dropped); each client's
 * view (seq → id, from live frames and syncs) equals history.
 *
 * Replay: `CRASH_SEED=<seed printed> deno task test tests/adversarial/crash_test.ts`.
 */
// deno-lint-ignore-file no-explicit-any no-console
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { type Account, api, register } from "../helpers/server.ts";
import { report, Rng, seedFrom } from "./seed.ts";
import { freePort, root } from "../helpers/net.ts";
import { spawnServer } from "../helpers/logsink.ts";

const SEED = seedFrom("CRASH_SEED");
const CLIENTS = 30;
const GROUPS = 3;
const BOUND_MS = 240_000;

/** The server as production runs it; `kill()` is SIGKILL, `start()` reopens the same KV. */
class Server {
  child: Deno.ChildProcess | null = null;
  readonly url: string;
  constructor(readonly port: number, readonly kvPath: string) {
    this.url = `http://127.0.0.1:${port}`;
  }
  async start() {
    for (let attempt = 0; attempt < 20; attempt++) {
      this.child = spawnServer({
        args: [
          "serve",
          "--parallel",
          "-A",
          "--port",
          String(this.port),
          "--host",
          "127.0.0.1",
          "main.ts",
        ],
        cwd: root,
        env: {
          KV_PATH: this.kvPath,
          JWT_SECRET: "crash-probe-secret-0123456789abcdef0123",
          LOG_LEVEL: "error",
          DENO_JOBS: "2",
          REGISTER_LIMIT_PER_HOUR: "1000",
        },
      }).child;
      for (let i = 0; i < 150; i++) {
        try {
          const res = await fetch(`${this.url}/health`);
          await res.body?.cancel();
          if (res.ok) return;
        } catch { /* not up yet */ }
        const exited = await Promise.race([
          this.child.status.then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), 100)),
        ]);
        if (exited) break; // the port was not free yet: start again
      }
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
      await this.child.status;
    }
    throw new Error("the server did not start");
  }
  async kill() {
    this.child!.kill("SIGKILL");
    await this.child!.status;
  }
  async stop() {
    try {
      this.child?.kill("SIGTERM");
    } catch { /* gone */ }
    const t = setTimeout(() => {
      try {
        this.child?.kill("SIGKILL");
      } catch { /* gone */ }
    }, 8000);
    await this.child?.status;
    clearTimeout(t);
  }
}

/** A client as the real one behaves: outbox resent on reconnect, sync on ready and on gaps. */
class Client {
  ws: WebSocket | null = null;
  outbox = new Map<string, string>(); // id → body, until acked
  acked = new Map<string, number>(); // id → seq
  view = new Map<number, string>(); // seq → id
  errors: any[] = [];
  reconnects = 0;
  #stopped = false;
  #ready: Promise<void> | null = null;

  constructor(readonly srv: Server, readonly account: Account, readonly conv: string) {}

  get last(): number {
    let m = 0;
    for (const s of this.view.keys()) m = Math.max(m, s);
    return m;
  }

  connect(): Promise<void> {
    this.#ready = new Promise((resolve) => {
      const open = () => {
        if (this.#stopped) return resolve();
        const ws = new WebSocket(
          `${this.srv.url.replace("http", "ws")}/api/ws?token=${
            encodeURIComponent(this.account.accessToken)
          }`,
        );
        this.ws = ws;
        ws.onmessage = (e) => {
          const data = JSON.parse(e.data);
          for (const f of Array.isArray(data) ? data : [data]) this.#on(f, resolve);
        };
        ws.onclose = () => {
          if (this.ws !== ws || this.#stopped) return;
          this.reconnects++;
          setTimeout(open, 100 + Math.random() * 200);
        };
        ws.onerror = () => {};
      };
      open();
    });
    return this.#ready;
  }

  #on(f: any, ready: () => void) {
    switch (f.type) {
      case "ready":
        // Catch up from the last seq held, then resend everything not yet acked.
        this.#sync(this.last);
        for (const [id, body] of this.outbox) this.#send(id, body);
        ready();
        break;
      case "ack":
        this.outbox.delete(f.id);
        if (this.acked.has(f.id) && this.acked.get(f.id) !== f.seq) {
          this.errors.push({ ackChanged: f.id, was: this.acked.get(f.id), now: f.seq });
        }
        this.acked.set(f.id, f.seq);
        this.#see(f.seq, f.id);
        break;
      case "message":
        this.#see(f.message.seq, f.message.id);
        break;
      case "messages":
        for (const m of f.messages) this.#see(m.seq, m.id);
        if (f.hasMore && f.messages.length) this.#sync(f.messages[f.messages.length - 1].seq);
        break;
      case "error":
        if (f.error?.code === "rate_limited" && f.id && this.outbox.has(f.id)) {
          setTimeout(() => this.#send(f.id, this.outbox.get(f.id)!), f.error.retryAfterMs ?? 200);
        } else this.errors.push(f);
        break;
    }
  }

  #see(seq: number, id: string) {
    const gap = seq > this.last + 1;
    const held = this.view.get(seq);
    if (held !== undefined && held !== id) this.errors.push({ seq, held, now: id });
    this.view.set(seq, id);
    if (gap) this.#sync(this.last === seq ? this.#below(seq) : this.last);
  }

  /** The highest seq held below `seq` (where a gap starts). */
  #below(seq: number): number {
    let m = 0;
    for (const s of this.view.keys()) if (s < seq) m = Math.max(m, s);
    return m;
  }

  #sync(afterSeq: number) {
    this.#raw({ type: "sync", conversationId: this.conv, afterSeq, limit: 100 });
  }

  #send(id: string, body: string) {
    this.#raw({ type: "send", id, conversationId: this.conv, body });
  }

  #raw(frame: unknown) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  send(body: string) {
    const id = crypto.randomUUID();
    this.outbox.set(id, body);
    this.#send(id, body);
  }

  close() {
    this.#stopped = true;
    this.ws?.close();
  }
}

Deno.test({
  name:
    `crash (seed ${SEED}): ${CLIENTS} clients, SIGKILL twice under deno serve --parallel, nothing acked lost or doubled`,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    report(`crash seed ${SEED} (replay: CRASH_SEED=${SEED})`);
    const started = Date.now();
    const watchdog = setTimeout(() => {
      console.error(`crash: over ${BOUND_MS} ms, seed ${SEED}`);
      Deno.exit(1);
    }, BOUND_MS);
    const rng = new Rng(SEED);
    const dir = await Deno.makeTempDir({ prefix: "parley-crash-" });
    const srv = new Server(freePort(), `${dir}/parley.kv`);
    const clients: Client[] = [];
    try {
      await srv.start();
      const accounts: Account[] = [];
      for (let i = 0; i < CLIENTS; i += 5) {
        accounts.push(...await Promise.all(Array.from({ length: 5 }, () => register(srv.url))));
      }
      const convs: string[] = [];
      const per = CLIENTS / GROUPS;
      for (let g = 0; g < GROUPS; g++) {
        const members = accounts.slice(g * per, (g + 1) * per);
        const res = await api(srv.url, "POST", "/api/conversations", {
          token: members[0].accessToken,
          body: {
            kind: "group",
            title: `crash ${g}`,
            memberIds: members.slice(1).map((m) => m.user.id),
          },
        });
        equal(res.status, 201);
        convs.push(res.body.conversation.id);
      }
      for (let i = 0; i < CLIENTS; i++) {
        clients.push(new Client(srv, accounts[i], convs[Math.floor(i / per)]));
      }
      await Promise.all(clients.map((c) => c.connect()));

      let sending = true;
      let sent = 0;
      const senders = clients.map(async (c, i) => {
        await new Promise((r) => setTimeout(r, rng.int(400)));
        for (let n = 0; sending; n++) {
          c.send(`client ${i} message ${n}`);
          sent++;
          await new Promise((r) => setTimeout(r, 350 + rng.int(300)));
        }
      });
      const kills: number[] = [];
      for (let k = 0; k < 2; k++) {
        const wait = 2500 + rng.int(2000);
        await new Promise((r) => setTimeout(r, wait));
        const ackedBefore = clients.reduce((n, c) => n + c.acked.size, 0);
        await srv.kill();
        kills.push(ackedBefore);
        await new Promise((r) => setTimeout(r, rng.int(500)));
        await srv.start();
      }
      await new Promise((r) => setTimeout(r, 3000));
      sending = false;
      await Promise.all(senders);
      // Drain: every outbox empties, every view catches up (bounded).
      const history = new Map<string, Map<number, string>>();
      const deadline = Date.now() + 60_000;
      for (;;) {
        for (const conv of convs) {
          const owner = clients.find((c) => c.conv === conv)!;
          const all = new Map<number, string>();
          let after = 0;
          for (;;) {
            const page = await api(
              srv.url,
              "GET",
              `/api/conversations/${conv}/messages?after=${after}&limit=100`,
              {
                token: owner.account.accessToken,
              },
            );
            equal(page.status, 200);
            for (const m of page.body.messages) all.set(m.seq, m.id);
            if (!page.body.hasMore || page.body.messages.length === 0) break;
            after = page.body.messages[page.body.messages.length - 1].seq;
          }
          history.set(conv, all);
        }
        const settled = clients.every((c) =>
          c.outbox.size === 0 && c.view.size === history.get(c.conv)!.size
        );
        if (settled || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }

      let acked = 0, messages = 0;
      for (const conv of convs) {
        const hist = history.get(conv)!;
        messages += hist.size;
        const ids = [...hist.values()];
        equal(new Set(ids).size, ids.length, `an id stored twice in ${conv} (seed ${SEED})`);
        const seqs = [...hist.keys()].sort((a, b) => a - b);
        eq(
          seqs,
          Array.from({ length: seqs.length }, (_, i) => seqs[0] + i),
          `seq gap (seed ${SEED})`,
        );
      }
      for (const c of clients) {
        eq(
          [...c.outbox.keys()],
          [],
          `client ${c.account.user.username} has unacked sends (seed ${SEED})`,
        );
        const hist = history.get(c.conv)!;
        for (const [id, seq] of c.acked) {
          acked++;
          equal(hist.get(seq), id, `acked ${id} not at seq ${seq} (seed ${SEED})`);
        }
        eq(
          [...c.view].sort((a, b) => a[0] - b[0]),
          [...hist].sort((a, b) => a[0] - b[0]),
          `view of ${c.account.user.username} differs from history (seed ${SEED})`,
        );
        eq(c.errors, [], `errors seen by ${c.account.user.username}`);
      }
      ok(kills.every((n) => n > 0), "messages were acked before each kill");
      report(
        `crash seed ${SEED}: ${CLIENTS} clients, ${sent} sent, ${acked} acked, ${messages} in history, ` +
          `acked before kill 1/2: ${kills.join("/")}, reconnects ${
            clients.reduce((n, c) => n + c.reconnects, 0)
          }, ${Date.now() - started} ms`,
      );
    } finally {
      clearTimeout(watchdog);
      for (const c of clients) c.close();
      await srv.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
