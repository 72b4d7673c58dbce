// deno-lint-ignore-file no-console
/**
 * The raw baseline: Deno.serve and native WebSockets, no auth, no storage, no coalescing.
 * It speaks just enough of Parley's protocol for the same generator to drive both:
 *
 * - `GET /api/ws?token=<name>&conv=<id,id,...>`: `token` is taken as the user id as-is, `conv`
 *   lists the conversations the connection listens to. Without `conv` the connection listens to
 *   everything, so with one group this is a plain broadcast to every connected client.
 * - on open: `{type:"ready", userId, connectionId}`
 * - `{type:"send", id, conversationId, body}` → `{type:"ack", id, conversationId, seq, ts}` to the
 *   sender first (as Parley does), then one `{type:"message", message}` frame per recipient,
 *   every listener of the conversation but the sending connection, one `socket.send` each.
 * - `{type:"ping"}` → `{type:"pong", ts}`; anything else → `error` `invalid_input`.
 * - `GET /health` → 200.
 *
 * Usage: `deno run -A bench/baseline_server.ts [port]` (or PORT); binds 127.0.0.1 only.
 * With `--exit-on-stdin-eof` it exits when its parent closes stdin (the generator uses this so
 * that no server outlives it).
 * @module
 */

const portArg = Deno.args.find((a) => /^\d+$/.test(a));
const port = Number(portArg ?? Deno.env.get("PORT") ?? 8001);

interface Conn {
  socket: WebSocket;
  userId: string;
}

/** Listeners per conversation id; "*" listens to everything. */
const byConv = new Map<string, Set<Conn>>();
const seqs = new Map<string, number>();
let nextConnId = 0;

function listeners(convId: string): Set<Conn> {
  let set = byConv.get(convId);
  if (!set) byConv.set(convId, set = new Set());
  return set;
}

function sendTo(conn: Conn, text: string) {
  if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(text);
}

function invalid(conn: Conn, id?: unknown) {
  sendTo(
    conn,
    JSON.stringify({
      type: "error",
      ...(typeof id === "string" ? { id } : {}),
      error: { code: "invalid_input", message: "That frame is not understood." },
    }),
  );
}

function onFrame(conn: Conn, data: unknown) {
  if (typeof data !== "string") return invalid(conn);
  let frame: Record<string, unknown>;
  try {
    frame = JSON.parse(data);
  } catch {
    return invalid(conn);
  }
  if (frame?.type === "ping") {
    return sendTo(conn, JSON.stringify({ type: "pong", ts: Date.now() }));
  }
  if (
    frame?.type !== "send" || typeof frame.id !== "string" ||
    typeof frame.conversationId !== "string" || typeof frame.body !== "string"
  ) return invalid(conn, frame?.id);
  const conversationId = frame.conversationId;
  const seq = (seqs.get(conversationId) ?? 0) + 1;
  seqs.set(conversationId, seq);
  const ts = Date.now();
  sendTo(conn, JSON.stringify({ type: "ack", id: frame.id, conversationId, seq, ts }));
  const text = JSON.stringify({
    type: "message",
    message: {
      id: frame.id,
      conversationId,
      seq,
      senderId: conn.userId,
      kind: "text",
      body: frame.body,
      ts,
    },
  });
  for (const set of [byConv.get(conversationId), byConv.get("*")]) {
    if (!set) continue;
    for (const other of set) if (other !== conn) sendTo(other, text);
  }
}

function handler(req: Request): Response {
  const url = new URL(req.url);
  if (url.pathname === "/health") return new Response("ok");
  if (url.pathname !== "/api/ws") return new Response("not found", { status: 404 });
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("expected a websocket upgrade", { status: 400 });
  }
  const { socket, response } = Deno.upgradeWebSocket(req);
  const conn: Conn = { socket, userId: url.searchParams.get("token") ?? `anon${nextConnId}` };
  const connectionId = `c${nextConnId++}`;
  const convs = (url.searchParams.get("conv") ?? "*").split(",").filter(Boolean);
  socket.onopen = () => {
    for (const c of convs) listeners(c).add(conn);
    sendTo(conn, JSON.stringify({ type: "ready", userId: conn.userId, connectionId }));
  };
  socket.onmessage = (e) => onFrame(conn, e.data);
  socket.onclose = () => {
    for (const c of convs) byConv.get(c)?.delete(conn);
  };
  socket.onerror = () => {};
  return response;
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ hostname, port }) => console.log(`baseline listening on http://${hostname}:${port}`),
}, handler);

const shutdown = () => {
  server.shutdown().finally(() => Deno.exit(0));
  setTimeout(() => Deno.exit(0), 2000);
};
Deno.addSignalListener("SIGTERM", shutdown);
Deno.addSignalListener("SIGINT", shutdown);

if (Deno.args.includes("--exit-on-stdin-eof")) {
  (async () => {
    const buf = new Uint8Array(64);
    while ((await Deno.stdin.read(buf)) !== null) { /* wait for EOF */ }
    Deno.exit(0);
  })();
}
