/**
 * Limits that must hold for the whole server, not per isolate: the real server under
 * `deno serve --parallel` with two isolates on one KV file.
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { startParallel } from "../helpers/parallel.ts";
import { api, register, WsClient } from "../helpers/server.ts";

/** Opens a socket; resolves with the isolate that admitted it, or with its close code. */
async function attempt(wsUrl: string, token: string) {
  const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
  const outcome = await new Promise<{ isolate?: string; code?: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("neither ready nor closed in 10 s")), 10_000);
    socket.onmessage = (e) => {
      const data = JSON.parse(e.data);
      const first = Array.isArray(data) ? data[0] : data;
      if (first?.type === "ready") {
        clearTimeout(timer);
        resolve({ isolate: first.connectionId.split(".")[0] });
      }
    };
    socket.onclose = (e) => {
      clearTimeout(timer);
      resolve({ code: e.code });
    };
  });
  return { socket, ...outcome };
}

async function closeAll(sockets: WebSocket[]) {
  await Promise.all(
    sockets.map((s) =>
      s.readyState === WebSocket.CLOSED ? null : new Promise((r) => {
        s.addEventListener("close", r);
        s.close(1000);
      })
    ),
  );
}

Deno.test({
  name: "deno serve --parallel: the per-user socket cap counts the sockets of every isolate",
  sanitizeResources: false,
  fn: async () => {
    const srv = await startParallel({ MAX_SOCKETS_PER_USER: "4" });
    const open: WebSocket[] = [];
    try {
      const alice = await register(srv.url);
      // Four admitted sockets spread over both isolates: then neither holds four itself, and a
      // refusal can only come from counting the other's.
      let spread = false;
      for (let round = 0; round < 30 && !spread; round++) {
        await closeAll(open.splice(0));
        const isolates = new Set<string>();
        for (let i = 0; i < 4; i++) {
          let a = await attempt(srv.wsUrl, alice.accessToken);
          for (let r = 0; a.code === 4003 && r < 40; r++) {
            await new Promise((res) => setTimeout(res, 50)); // the last round's releases land
            a = await attempt(srv.wsUrl, alice.accessToken);
          }
          ok(a.isolate, `socket ${i + 1} of 4 admitted (got close ${a.code})`);
          open.push(a.socket);
          isolates.add(a.isolate!);
        }
        spread = isolates.size === 2;
      }
      ok(spread, "four admitted sockets landed on both isolates");
      for (let i = 0; i < 6; i++) {
        const extra = await attempt(srv.wsUrl, alice.accessToken);
        open.push(extra.socket);
        eq(extra.code, 4003, `socket ${5 + i} is refused (admitted on ${extra.isolate})`);
      }
    } finally {
      await closeAll(open);
      await srv.stop();
    }
  },
});

Deno.test({
  name:
    "deno serve --parallel: the send limit holds for the user over both isolates (burst 30, then 10/s)",
  sanitizeResources: false,
  fn: async () => {
    const srv = await startParallel();
    const clients: WsClient[] = [];
    try {
      const [alice, bob] = [await register(srv.url), await register(srv.url)];
      const g = await api(srv.url, "POST", "/api/conversations", {
        token: alice.accessToken,
        body: { kind: "group", title: "Limits", memberIds: [bob.user.id] },
      });
      eq(g.status, 201);
      const convId = g.body.conversation.id;
      // One of Alice's sockets on each isolate.
      const byIsolate = new Map<string, WsClient>();
      for (let i = 0; i < 40 && byIsolate.size < 2; i++) {
        const c = await WsClient.connect(srv.wsUrl, alice.accessToken);
        clients.push(c);
        byIsolate.set(c.ready.connectionId.split(".")[0], c);
      }
      eq(byIsolate.size, 2, "Alice has a socket on each isolate");
      // 50 sends on each at once: per isolate counting would allow 30 on each.
      const started = Date.now();
      const answers = await Promise.all(
        [...byIsolate.values()].flatMap((c) =>
          Array.from({ length: 50 }, (_, i) => c.sendMessage(convId, `burst ${i}`))
        ),
      );
      const seconds = (Date.now() - started) / 1000;
      const acked = answers.filter((f) => f.type === "ack").length;
      const refused = answers.filter((f) => f.error?.code === "rate_limited").length;
      eq(acked + refused, 100, "every send is acked or refused as rate limited");
      ok(
        acked <= 30 + Math.ceil(10 * seconds),
        `${acked} acked in ${seconds.toFixed(2)} s: at most the burst plus the refill`,
      );
      const history = await api(srv.url, "GET", `/api/conversations/${convId}/messages?limit=100`, {
        token: bob.accessToken,
      });
      eq(
        history.body.messages.filter((m: { kind: string }) => m.kind !== "system").length,
        acked,
        "only acked sends were stored (the group's creation aside)",
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await srv.stop();
    }
  },
});
