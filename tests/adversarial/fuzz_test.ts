/**
 * Fuzz probe: a seeded generator throws over 10,000 hostile WebSocket frames and HTTP requests
 * at a real server (broken JSON, wrong types, huge and odd strings, lone surrogates, NUL,
 * prototype keys, binary frames, malformed upgrades and paths) while two honest users chat.
 *
 * Holds: no answer is a 5xx and no error frame says `internal`; nothing is written to the log
 * above debug; no refused send is in history and every acked one is, exactly once; the
 * prototype of Object is untouched; the honest users' every message is acked and delivered in
 * order throughout.
 *
 * Replay a failure: `FUZZ_SEED=<seed printed> deno task test tests/adversarial/fuzz_test.ts`.
 * Sizes: FUZZ_FRAMES (default 6,500), FUZZ_REQUESTS (3,500), FUZZ_RAW (300).
 *
 * Binary frames: what holds today is asserted (an error frame or a close, never a crash, and the
 * server keeps serving). Closing 1009 for binary frames over 64 KiB (issue 15, item 5) belongs
 * to the engine follow-up; this probe does not assert it yet.
 */
// deno-lint-ignore-file no-explicit-any no-console
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { aboveDebug, captureLogs } from "../helpers/logs.ts";
import { rawRequest } from "../helpers/raw.ts";
import { directPair, register, type TestServer, withServer, WsClient } from "../helpers/server.ts";
import { report, Rng, seedFrom } from "./seed.ts";

const SEED = seedFrom("FUZZ_SEED");
const FRAMES = Number(Deno.env.get("FUZZ_FRAMES") ?? 6500);
const REQUESTS = Number(Deno.env.get("FUZZ_REQUESTS") ?? 3500);
const RAW = Number(Deno.env.get("FUZZ_RAW") ?? 300);
const SOCKETS = 8;
/** The whole probe must end within this, or it fails (it takes about 30 s on a busy VM). */
const BOUND_MS = 240_000;

const ODD_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "X\ud800",
  "\udc00abc",
  "a\ud83d",
  "\ud83d\ude00",
  "\u202e\u202dreversed",
  "\ufeff",
  "\uffff",
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "../../etc/passwd",
  "%00",
  "%ED%A0%80",
  "\\u0000",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "${7*7}",
  "null",
  "undefined",
  "NaN",
  "-1",
  "1e309",
  "\r\n\r\nHTTP/1.1 200 OK",
];

function oddString(rng: Rng, known: string[]): string {
  switch (rng.int(6)) {
    case 0:
      return rng.pick(ODD_STRINGS);
    case 1:
      return rng.pick(known);
    case 2:
      return rng.pick(ODD_STRINGS).repeat(1 + rng.int(rng.chance(0.1) ? 3000 : 40));
    case 3:
      return Array.from({ length: 1 + rng.int(40) }, () => String.fromCharCode(rng.int(0x10000)))
        .join("");
    case 4:
      return rng.pick(known) + rng.pick(ODD_STRINGS);
    default:
      return crypto.randomUUID().slice(0, 1 + rng.int(36));
  }
}

function oddValue(rng: Rng, known: string[], depth = 0): unknown {
  switch (rng.int(depth > 2 ? 5 : 8)) {
    case 0:
      return oddString(rng, known);
    case 1:
      return rng.pick([0, -1, 1, 0.5, 2 ** 53 + 1, -(2 ** 31), 1e308, -0, 4001, 100000]);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return rng.pick(known);
    case 4:
      return rng.int(1000);
    case 5:
      return Array.from({ length: rng.int(5) }, () => oddValue(rng, known, depth + 1));
    case 6:
      return Object.fromEntries(
        Array.from(
          { length: rng.int(4) },
          () => [
            oddString(rng, ["__proto__", "constructor", "type", "id"]),
            oddValue(rng, known, depth + 1),
          ],
        ),
      );
    default:
      return Array.from({ length: 200 }, (_, i) => ({ i })).slice(0, rng.int(200));
  }
}

const TYPES = ["send", "sync", "read", "typing", "ping"];
const FIELDS = ["id", "conversationId", "body", "kind", "afterSeq", "limit", "seq", "reqId"];

/** One hostile frame: text (JSON or not) or binary. */
function frame(rng: Rng, known: string[], convs: string[]): string | Uint8Array {
  const r = rng.int(100);
  if (r < 4) {
    // Binary frames, now and then past 64 KiB.
    const size = rng.chance(0.1) ? 70 * 1024 : rng.int(2048);
    const bytes = new Uint8Array(size);
    crypto.getRandomValues(bytes.subarray(0, Math.min(size, 65536)));
    return bytes;
  }
  if (r < 5) return JSON.stringify({ type: "ping", pad: "x".repeat(65 * 1024) }); // over 64 KiB
  if (r < 15) {
    const valid = JSON.stringify({
      type: "send",
      id: "x",
      conversationId: rng.pick(convs),
      body: "hi",
    });
    return rng.pick([
      valid.slice(0, rng.int(valid.length)),
      "{",
      "[]",
      "null",
      "1",
      '"str"',
      '{"type":}',
      '{"type":"ping",}',
      "\u0000",
      '{"type":"ping"}\u0000',
      valid + valid,
      '{"type":"ping","reqId":"\\ud800"}',
      '{"__proto__":{"polluted":"yes"},"type":"ping"}',
      '{"constructor":{"prototype":{"polluted":"yes"}},"type":"ping"}',
      '{"type":"send","__proto__":{"id":"p","body":"q"},"conversationId":"' + rng.pick(convs) +
      '"}',
      oddString(rng, known),
    ]);
  }
  const f: Record<string, unknown> = {
    type: rng.chance(0.9) ? rng.pick(TYPES) : oddValue(rng, known),
  };
  if (f.type === "send" && rng.chance(0.5)) {
    // Near-valid sends: a real conversation and a plausible id, one field spoiled (or none).
    f.id = rng.chance(0.5) ? crypto.randomUUID() : oddString(rng, known);
    f.conversationId = rng.pick(convs);
    f.body = rng.chance(0.7) ? `fuzz ${rng.int(1e6)}` : oddValue(rng, known);
    if (rng.chance(0.2)) f.kind = oddValue(rng, known);
  } else {
    for (const name of FIELDS) if (rng.chance(0.5)) f[name] = oddValue(rng, [...known, ...convs]);
  }
  return JSON.stringify(f);
}

/** A path segment with whatever the string holds, lone surrogates as their raw bytes. */
function seg(s: string): string {
  // At most 1,000 characters: far longer, fetch refuses the URL before it leaves the client.
  return [...s.slice(0, 1000)].map((ch) => {
    try {
      return encodeURIComponent(ch);
    } catch {
      return "%ED%A0%80";
    }
  }).join("");
}

interface Req {
  method: string;
  path: string;
  body?: string;
  headers: Record<string, string>;
  /** The message id a send carries, to check it against history afterwards. */
  sendId?: string;
  sendConv?: string;
}

function request(rng: Rng, known: string[], convs: string[], token: string): Req {
  const auth: Record<string, string> = rng.chance(0.85) ? { authorization: `Bearer ${token}` } : {};
  const ct = rng.pick<Record<string, string>>([
    { "content-type": "application/json" },
    { "content-type": "text/plain" },
    { "content-type": "application/x-www-form-urlencoded" },
    {},
  ]);
  const headers: Record<string, string> = { ...auth, ...ct };
  const json = (v: unknown) => rng.chance(0.1) ? JSON.stringify(v).slice(0, -1) : JSON.stringify(v);
  const conv = rng.chance(0.8) ? rng.pick(convs) : oddString(rng, known);
  switch (rng.int(10)) {
    case 0:
    case 1:
    case 2: {
      const id = rng.chance(0.5) ? crypto.randomUUID() : oddString(rng, known);
      const body: Record<string, unknown> = {
        id,
        body: rng.chance(0.7) ? `http ${rng.int(1e6)}` : oddValue(rng, known),
      };
      if (rng.chance(0.2)) body.kind = oddValue(rng, known);
      if (rng.chance(0.1)) body.__proto__ = { id: "proto" };
      return {
        method: "POST",
        path: `/api/conversations/${seg(conv)}/messages`,
        body: json(rng.chance(0.1) ? oddValue(rng, known) : body),
        headers,
        sendId: typeof id === "string" ? id : undefined,
        sendConv: conv,
      };
    }
    case 3: {
      const q = (name: string) =>
        rng.chance(0.5) ? `${name}=${seg(String(oddValue(rng, known)))}` : "";
      return {
        method: "GET",
        path: `/api/conversations/${seg(conv)}/messages?${q("before")}&${q("after")}&${q("limit")}`,
        headers,
      };
    }
    case 4:
      return { method: "GET", path: `/api/users?q=${seg(oddString(rng, known))}`, headers };
    case 5:
      return {
        method: rng.pick(["POST", "PATCH", "DELETE"]),
        path: rng.pick([
          `/api/conversations/${seg(conv)}/read`,
          `/api/conversations/${seg(conv)}`,
          `/api/conversations/${seg(conv)}/members`,
          `/api/conversations/${seg(conv)}/members/${seg(oddString(rng, known))}`,
          "/api/conversations",
        ]),
        body: json(oddValue(rng, known)),
        headers,
      };
    case 6: {
      // Sign-in routes, always with a shape that fails before any password is hashed.
      const body = rng.chance(0.5)
        ? { username: oddValue(rng, known), password: rng.pick([null, 1, [], {}]) }
        : { username: "!" + oddString(rng, known), password: oddValue(rng, known) };
      return {
        method: "POST",
        path: rng.pick(["/api/auth/login", "/api/auth/register", "/api/auth/refresh"]),
        body: json(rng.chance(0.1) ? oddValue(rng, known) : body),
        headers: { ...ct },
      };
    }
    case 7:
      return {
        method: rng.pick(["GET", "HEAD", "PUT", "OPTIONS", "DELETE"]),
        path: rng.pick(["/api/", "/chat/", "/static/", "/", "/api/me/", "/login/"]) +
          seg(oddString(rng, known)),
        headers,
      };
    case 8:
      // Logout without credentials or with a forged token (Mallory's own would end her session
      // and leave the rest of the run knocking at a closed door).
      return {
        method: "POST",
        path: "/api/auth/logout",
        headers: rng.chance(0.5) ? { ...ct } : { ...ct, authorization: `Bearer ${token}x` },
      };
    default:
      return {
        method: "GET",
        path: "/api/ws",
        headers: { ...headers, upgrade: rng.pick(["websocket", "h2c", ""]) },
      };
  }
}

function rawHead(rng: Rng, token: string): string {
  const key = rng.pick(["dGhlIHNhbXBsZSBub25jZQ==", "", "abc", "\u00ff".repeat(30)]);
  return rng.pick([
    `GET /api/ws HTTP/1.1\nHost: x\nAuthorization: Bearer ${token}\nUpgrade: websocket\n`,
    `GET /api/ws HTTP/1.1\nHost: x\nAuthorization: Bearer ${token}\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: ${key}\n`,
    `GET /api/ws HTTP/1.1\nHost: x\nAuthorization: Bearer ${token}\nConnection: Upgrade\nSec-WebSocket-Key: ${key}\nSec-WebSocket-Version: ${
      rng.int(20)
    }\n`,
    `GET /static/%00 HTTP/1.1\nHost: x\nConnection: close\n`,
    `GET /static/${"%2e%2e/".repeat(rng.int(5))}deno.json HTTP/1.1\nHost: x\nConnection: close\n`,
    `GET /api/conversations/%00/messages HTTP/1.1\nHost: x\nAuthorization: Bearer ${token}\nConnection: close\n`,
    `GET /${"a".repeat(rng.int(8000))} HTTP/1.1\nHost: x\nConnection: close\n`,
    `POST /api/auth/login HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nContent-Type: application/json\nConnection: close\n`,
    `GARBAGE\n`,
    `GET /health HTTP/9.9\nHost: x\n`,
    `GET /api/me HTTP/1.1\nHost: x\nAuthorization: Bearer \u0001\nConnection: close\n`,
  ]);
}

/** A pool of attacker sockets that reopens any the server closes, counting close codes. */
class Pool {
  sockets: WsClient[] = [];
  closes = new Map<number, number>();
  outcome = new Map<string, "acked" | "refused">();
  internal: any[] = [];
  unexpected: number[] = [];
  pending = new Map<string, number>();
  #oversized = new Set<WsClient>();
  errors = 0;
  constructor(private srv: TestServer, private token: string) {}

  async open() {
    for (let i = 0; i < SOCKETS; i++) this.sockets.push(await this.#connect());
  }

  async #connect(): Promise<WsClient> {
    // A reopened socket may take a while on a busy machine: up to three tries of 20 s each.
    let ws: WsClient | null = null;
    for (let attempt = 0; !ws; attempt++) {
      try {
        ws = await WsClient.connect(this.srv.wsUrl, this.token, { readyTimeoutMs: 20_000 });
      } catch (err) {
        if (attempt >= 2) throw err;
      }
    }
    const onmessage = ws.socket.onmessage!;
    ws.socket.onmessage = (e) => {
      onmessage.call(ws.socket, e);
      const data = JSON.parse(e.data);
      for (const f of Array.isArray(data) ? data : [data]) {
        if ((f.type === "ack" || f.type === "error") && typeof f.id === "string") {
          this.pending.set(f.id, (this.pending.get(f.id) ?? 0) - 1);
        }
        if (f.type === "ack") this.outcome.set(f.id, "acked");
        if (f.type === "error") {
          this.errors++;
          if (f.error?.code === "internal") this.internal.push(f);
          if (typeof f.id === "string" && this.outcome.get(f.id) !== "acked") {
            this.outcome.set(f.id, "refused");
          }
        }
      }
      ws.frames.length = 0; // only the outcome is kept; thousands of frames would pile up
    };
    ws.closed.then(({ code }) => {
      this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
      // 1009 answers a text frame over 64 KiB; when the client was still writing behind it,
      // the client sees the connection end abnormally (code 0 or 1006). Any other close, or
      // one on a socket that sent no such frame, is the server failing.
      if (code !== 1000 && !(this.#oversized.has(ws) && [0, 1006, 1009].includes(code))) {
        this.unexpected.push(code);
      }
    });
    return ws;
  }

  async send(i: number, data: string | Uint8Array) {
    let ws = this.sockets[i % SOCKETS];
    if (ws.socket.readyState !== WebSocket.OPEN) {
      ws = this.sockets[i % SOCKETS] = await this.#connect();
    }
    if (typeof data === "string" && data.length > 64 * 1024) this.#oversized.add(ws);
    ws.socket.send(data);
  }

  async close() {
    await Promise.all(this.sockets.map((ws) => ws.close()));
  }
}

Deno.test({
  name: `fuzz (seed ${SEED}): ${
    FRAMES + REQUESTS + RAW
  } hostile frames and requests, no 5xx, no error log, honest users unaffected`,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    report(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`);
    const started = Date.now();
    const watchdog = setTimeout(() => {
      console.error(`fuzz: over ${BOUND_MS} ms, seed ${SEED}`);
      Deno.exit(1);
    }, BOUND_MS);
    const rng = new Rng(SEED);
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    try {
      await withServer(async (srv) => {
        const port = Number(new URL(srv.url).port);
        const honest = await directPair(srv.url);
        const mallory = await register(srv.url);
        const victim = await register(srv.url);
        const made = await fetch(`${srv.url}/api/conversations`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${mallory.accessToken}`,
            "content-type": "application/json",
          },
          body: JSON.stringify({ kind: "direct", userId: victim.user.id }),
        });
        const malloryConv = (await made.json()).conversation.id as string;
        const known = [
          malloryConv,
          honest.convId,
          honest.alice.user.id,
          victim.user.id,
          mallory.user.id,
          "ping",
          "send",
        ];
        const convs = [malloryConv, malloryConv, malloryConv, honest.convId, crypto.randomUUID()];
        const counts = { frames: 0, binary: 0, requests: 0, unsent: 0, raw: 0, honest: 0 };
        const statuses = new Map<number, number>();
        const httpSends = new Map<string, { conv: string; outcome: "acked" | "refused" }>();
        const wsSends = new Map<string, Set<string>>();
        const otherIds = new Set<string>();

        const alice = await WsClient.connect(srv.wsUrl, honest.alice.accessToken);
        const bob = await WsClient.connect(srv.wsUrl, honest.bob.accessToken);
        const pool = new Pool(srv, mallory.accessToken);
        await pool.open();
        let fuzzing = true;
        const honestSent: string[] = [];
        const honestLoop = (async () => {
          // An honest message about every 150 ms for as long as the fuzzing lasts: each must be
          // acked and reach the peer.
          while (fuzzing) {
            const body = `honest ${honestSent.length}`;
            const ack = await alice.sendMessage(honest.convId, body);
            equal(ack.type, "ack", JSON.stringify(ack));
            honestSent.push(body);
            await bob.next((f) => f.type === "message" && f.message.body === body, 10_000);
            await new Promise((r) => setTimeout(r, 150));
          }
        })();

        const lines = await captureLogs(async () => {
          // WebSocket frames, in batches so replies keep pace.
          for (let i = 0; i < FRAMES; i++) {
            const data = frame(rng, known, convs);
            if (typeof data !== "string") counts.binary++;
            else {
              let parsed: any = null;
              try {
                parsed = JSON.parse(data);
              } catch { /* not JSON, or two frames glued together: no id of one send */ }
              if (parsed?.type === "send" && typeof parsed.id === "string") {
                const set = wsSends.get(parsed.id) ?? new Set();
                wsSends.set(parsed.id, set.add(String(parsed.conversationId)));
                // Every attempt awaits its own answer: an id with an attempt left unanswered
                // (its socket closed first) has an unknown outcome and is left out below.
                pool.pending.set(parsed.id, (pool.pending.get(parsed.id) ?? 0) + 1);
              } else if (typeof parsed?.id === "string") {
                // Other frames echo their id in errors too: such ids are left out below.
                otherIds.add(parsed.id);
              }
            }
            await pool.send(i, data);
            counts.frames++;
            if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
          }
          // HTTP requests, 8 at a time.
          const reqs = Array.from(
            { length: REQUESTS },
            () => request(rng, known, convs, mallory.accessToken),
          );
          for (let i = 0; i < reqs.length; i += 8) {
            await Promise.all(
              reqs.slice(i, i + 8).map(async (r) => {
                let res: Response;
                try {
                  res = await fetch(srv.url + r.path, {
                    method: r.method,
                    headers: r.headers,
                    body: r.method === "GET" || r.method === "HEAD" ? undefined : r.body,
                    redirect: "manual",
                  });
                } catch (err) {
                  // Refused by the client itself (nothing was sent); anything else is the server's.
                  if (String(err).includes("Invalid URL")) return void counts.unsent++;
                  throw new Error(
                    `${r.method} ${r.path.slice(0, 80)}: ${String(err).slice(0, 200)}`,
                  );
                }
                await res.body?.cancel();
                counts.requests++;
                statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
                ok(
                  res.status < 500,
                  `${r.method} ${r.path.slice(0, 80)}: ${res.status} (seed ${SEED})`,
                );
                if (r.sendId !== undefined) {
                  const prev = httpSends.get(r.sendId);
                  if (prev && prev.conv !== r.sendConv) {
                    prev.conv = "(several)";
                  } else if (r.sendConv === malloryConv) {
                    httpSends.set(r.sendId, {
                      conv: r.sendConv,
                      outcome: prev?.outcome === "acked" || res.status < 300 ? "acked" : "refused",
                    });
                  } else httpSends.set(r.sendId, { conv: r.sendConv!, outcome: "refused" });
                }
              }),
            );
          }
          // Raw TCP: what fetch would not send.
          for (let i = 0; i < RAW; i++) {
            const head = rawHead(rng, mallory.accessToken);
            const body = head.includes("chunked")
              ? rng.pick(["zz\r\n{}\r\n0\r\n\r\n", '5\r\n{"a\r\n'])
              : "";
            const res = await rawRequest(port, head, body);
            counts.raw++;
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            ok(
              res.status < 500,
              `raw ${JSON.stringify(head.slice(0, 80))}: ${res.status} (seed ${SEED})`,
            );
          }
          // Let the last replies arrive (a send whose socket was closed first stays unknown).
          const deadline = Date.now() + 10_000;
          const open = () => pool.sockets.some((ws) => ws.socket.readyState === WebSocket.OPEN);
          while (
            Date.now() < deadline && open() &&
            [...wsSends.keys()].some((id) => !pool.outcome.has(id))
          ) {
            await new Promise((r) => setTimeout(r, 50));
          }
          fuzzing = false;
          await honestLoop;
        });

        // The server is still whole: honest history in order, a fresh socket works.
        const hist = await fetch(
          `${srv.url}/api/conversations/${honest.convId}/messages?limit=100`,
          {
            headers: { authorization: `Bearer ${honest.bob.accessToken}` },
          },
        ).then((r) => r.json());
        const honestTail = honestSent.slice(-100);
        eq(hist.messages.map((m: any) => m.body).slice(-honestTail.length), honestTail);
        counts.honest = honestSent.length;
        ok(counts.honest > 0, "the honest users exchanged messages during the run");

        // Nothing refused is stored; everything acked is, once.
        const stored: any[] = [];
        let before: number | undefined;
        for (;;) {
          const page = await fetch(
            `${srv.url}/api/conversations/${malloryConv}/messages?limit=100${
              before ? `&before=${before}` : ""
            }`,
            { headers: { authorization: `Bearer ${victim.accessToken}` } },
          ).then((r) => r.json());
          stored.unshift(...page.messages);
          if (!page.hasMore || page.messages.length === 0) break;
          before = page.messages[0].seq;
        }
        const storedIds = stored.map((m) => m.id);
        equal(new Set(storedIds).size, storedIds.length, "no id stored twice");
        // An outcome per id of Mallory's conversation; ids also sent elsewhere (odd strings
        // reused by the generator) are left out, since an error frame does not say which
        // conversation it answers.
        const outcome = new Map<string, "acked" | "refused">();
        let unknown = 0;
        for (const [id, set] of wsSends) {
          if (set.size !== 1 || !set.has(malloryConv) || httpSends.has(id)) continue;
          if ((pool.pending.get(id) ?? 0) > 0 || otherIds.has(id)) {
            unknown++;
            continue;
          }
          const o = pool.outcome.get(id);
          if (o) outcome.set(id, o);
        }
        for (const [id, r] of httpSends) {
          if (!wsSends.has(id) && r.conv === malloryConv) outcome.set(id, r.outcome);
        }
        for (const id of storedIds) {
          ok(
            outcome.get(id) !== "refused",
            `refused id ${JSON.stringify(id)} was stored (seed ${SEED})`,
          );
          ok(id.isWellFormed(), `a stored id is not well-formed (seed ${SEED})`);
        }
        const acked = [...outcome].filter(([, o]) => o === "acked").map(([id]) => id);
        const storedSet = new Set(storedIds);
        for (const id of acked) {
          ok(storedSet.has(id), `acked id ${id} is not in history (seed ${SEED})`);
        }

        eq(pool.internal, [], "no error frame says internal");
        eq(
          Object.getOwnPropertyNames(Object.prototype).sort(),
          protoBefore,
          "Object.prototype untouched",
        );
        equal(({} as any).polluted, undefined);
        eq(
          aboveDebug(lines).map((l) => l.raw.slice(0, 300)),
          [],
          `log lines above debug (seed ${SEED})`,
        );
        await pool.close();
        eq(pool.unexpected, [], `sockets closed unexpectedly (seed ${SEED})`);
        await alice.close();
        await bob.close();
        report(
          `fuzz seed ${SEED}: ${counts.frames} frames (${counts.binary} binary), ` +
            `${counts.requests} requests (${counts.unsent} refused by fetch itself), ${counts.raw} raw; ${acked.length} sends acked, ` +
            `${[...outcome.values()].filter((o) => o === "refused").length} refused, ` +
            `${pool.errors} error frames, ${unknown} sends of unknown outcome (unanswered, or id shared with other frames); socket closes ${
              JSON.stringify(Object.fromEntries(pool.closes))
            }; ` +
            `statuses ${
              JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))
            }; ` +
            `${counts.honest} honest messages; ${Date.now() - started} ms`,
        );
        ok(counts.frames + counts.requests + counts.raw >= 10_000 || Deno.env.has("FUZZ_FRAMES"));
      });
    } finally {
      clearTimeout(watchdog);
    }
  },
});
