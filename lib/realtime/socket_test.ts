/**
 * One socket's life through `serveSocket`, over a real WebSocket to a real server on port 0,
 * a real engine and chat service on an in-memory KV. The HTTP route in front of it (auth,
 * origin) and the abuse limits are covered by tests/integration; these pin what the socket
 * handler itself answers.
 */
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { ChatService } from "../chat/service.ts";
import { loadConfig } from "../config.ts";
import { conversationView } from "../chat/views.ts";
import { createGroup } from "../store/conversations.ts";
import { withKv } from "../store/testing.ts";
import { Realtime } from "./engine.ts";
import { serveSocket } from "./socket.ts";

// deno-lint-ignore no-explicit-any
type Frame = any;

/** A client socket that collects every frame (arrays of frames flattened, in order). */
class Client {
  frames: Frame[] = [];
  #waiters: (() => void)[] = [];
  closed: Promise<CloseEvent>;
  opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      const parsed = JSON.parse(e.data);
      this.frames.push(...(Array.isArray(parsed) ? parsed : [parsed]));
      for (const w of this.#waiters.splice(0)) w();
    };
    this.opened = new Promise((r) => ws.addEventListener("open", () => r(), { once: true }));
    this.closed = new Promise((r) => ws.addEventListener("close", (e) => r(e), { once: true }));
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits until `n` frames match, and returns them. */
  async waitFor(pred: (f: Frame) => boolean, n = 1): Promise<Frame[]> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const got = this.frames.filter(pred);
      if (got.length >= n) return got;
      if (Date.now() > deadline) {
        throw new Error(`timed out; frames so far: ${JSON.stringify(this.frames)}`);
      }
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
}

/** A server that hands every upgraded socket to `serveSocket` as the user named by `?user=`. */
async function withSocketServer(
  fn: (open: (userId: string) => Client, kv: Deno.Kv) => Promise<void>,
) {
  await withKv(async (kv) => {
    const realtime = new Realtime(
      kv,
      loadConfig({ BROADCAST: "off" }),
      "iso",
      (u, c) => conversationView(kv, u, c),
    );
    const chat = new ChatService(kv, realtime);
    await realtime.start();
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
      const userId = new URL(req.url).searchParams.get("user")!;
      const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
      serveSocket(socket, { userId, sessionId: "s-" + userId }, realtime, chat);
      return response;
    });
    const clients: Client[] = [];
    const open = (userId: string) => {
      const c = new Client(
        new WebSocket(`ws://127.0.0.1:${server.addr.port}/?user=${encodeURIComponent(userId)}`),
      );
      clients.push(c);
      return c;
    };
    try {
      await fn(open, kv);
    } finally {
      // The engine closes the server's sockets first (1001): a disconnect that follows then
      // touches no KV, which closes right after.
      await realtime.close();
      await Promise.all(clients.map((c) => c.closed));
      await server.shutdown();
    }
  });
}

Deno.test("ready comes first; frames sent at once on open are answered after it, in order", async () => {
  await withSocketServer(async (open) => {
    const c = open("ann");
    await c.opened;
    for (const reqId of ["p1", "p2", "p3"]) c.send({ type: "ping", reqId });
    await c.waitFor((f) => f.type === "pong", 3);
    equal(c.frames[0].type, "ready");
    equal(c.frames[0].userId, "ann");
    ok(c.frames[0].connectionId.startsWith("iso."), "connection ids name the isolate");
    eq(c.frames.filter((f) => f.type === "pong").map((f) => f.reqId), ["p1", "p2", "p3"]);
  });
});

Deno.test("each connection gets its own id", async () => {
  await withSocketServer(async (open) => {
    const a = open("ann"), b = open("ann");
    const [ra] = await a.waitFor((f) => f.type === "ready");
    const [rb] = await b.waitFor((f) => f.type === "ready");
    ok(ra.connectionId !== rb.connectionId);
  });
});

Deno.test("send is acked with its id and seq; a failed send's error names the id, not a reqId", async () => {
  await withSocketServer(async (open, kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    const c = open("ann");
    await c.waitFor((f) => f.type === "ready");
    c.send({ type: "send", id: "m1", conversationId: conv.id, body: "hello" });
    const [ack] = await c.waitFor((f) => f.type === "ack");
    // seq 1 is the group's creation.
    eq({ ...ack, ts: 0 }, { type: "ack", id: "m1", conversationId: conv.id, seq: 2, ts: 0 });
    c.send({ type: "send", id: "m2", conversationId: "elsewhere", body: "hi", reqId: "r" });
    const [err] = await c.waitFor((f) => f.type === "error");
    equal(err.id, "m2");
    equal(err.reqId, undefined);
    equal(err.error.code, "not_found");
  });
});

Deno.test("sync answers with a messages frame carrying the reqId; its error carries it too", async () => {
  await withSocketServer(async (open, kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    const a = open("ann");
    await a.waitFor((f) => f.type === "ready");
    for (const id of ["m1", "m2", "m3"]) {
      a.send({ type: "send", id, conversationId: conv.id, body: id });
    }
    await a.waitFor((f) => f.type === "ack", 3);
    const b = open("bea");
    await b.waitFor((f) => f.type === "ready");
    b.send({ type: "sync", conversationId: conv.id, afterSeq: 1, limit: 1, reqId: "s1" });
    const [page] = await b.waitFor((f) => f.type === "messages");
    equal(page.reqId, "s1");
    equal(page.conversationId, conv.id);
    eq(page.messages.map((m: { seq: number }) => m.seq), [2]);
    equal(page.hasMore, true);
    const c = open("cid");
    await c.waitFor((f) => f.type === "ready");
    c.send({ type: "sync", conversationId: conv.id, afterSeq: 0, reqId: "s2" });
    const [err] = await c.waitFor((f) => f.type === "error");
    eq({ reqId: err.reqId, code: err.error.code }, { reqId: "s2", code: "not_found" });
  });
});

Deno.test("read moves the cursor with no answer of its own; other members get the receipt", async () => {
  await withSocketServer(async (open, kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    const a = open("ann");
    await a.waitFor((f) => f.type === "ready");
    a.send({ type: "send", id: "m1", conversationId: conv.id, body: "hi" });
    await a.waitFor((f) => f.type === "ack");
    const b = open("bea");
    await b.waitFor((f) => f.type === "ready");
    b.send({ type: "read", conversationId: conv.id, seq: 2 }); // seq 1 is the creation
    const [receipt] = await a.waitFor((f) => f.type === "receipt");
    eq({ userId: receipt.userId, seq: receipt.seq }, { userId: "bea", seq: 2 });
    b.send({ type: "ping", reqId: "after" });
    await b.waitFor((f) => f.type === "pong");
    eq(b.frames.filter((f) => f.type === "error"), [], "no error for a read");
    equal((await conversationView(kv, "bea", conv.id))?.unread, 0);
  });
});

Deno.test("a binary message or a non-object frame gets invalid_input and the socket stays open", async () => {
  await withSocketServer(async (open) => {
    const c = open("ann");
    await c.waitFor((f) => f.type === "ready");
    c.ws.send(new Uint8Array([1, 2, 3]));
    c.send("null");
    c.send("42");
    c.send({ type: "ping", reqId: 7 });
    const errs = await c.waitFor((f) => f.type === "error", 4);
    eq(errs.map((e) => e.error.code), Array(4).fill("invalid_input"));
    equal(errs[0].error.message, "Frames must be JSON text messages.");
    equal(errs[3].reqId, undefined, "a reqId that is no string is not echoed");
    c.send({ type: "ping", reqId: "still" });
    equal((await c.waitFor((f) => f.type === "pong"))[0].reqId, "still");
  });
});
