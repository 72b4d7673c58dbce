/**
 * The logs of a real server process at LOG_LEVEL=debug, through sign-ups, sign-ins (good, bad
 * and throttled), refreshes (and a reused one), cookies, form posts, WebSocket sends with
 * message bodies, refused origins and CSRF, an abusive frame, logout and an admin password
 * reset: every security event of the contract is there, every line is JSON with what an
 * operator needs, and no password, token, cookie or message body used appears anywhere.
 */
import { equal, ok } from "node:assert/strict";
import { api, postForm, register, WsClient } from "../helpers/server.ts";
import { freePort, root } from "../helpers/net.ts";
import { keepChildLog, recordSecret } from "../helpers/logsink.ts";

async function collect(stream: ReadableStream<Uint8Array>, into: string[]) {
  const dec = new TextDecoder();
  for await (const chunk of stream) into.push(dec.decode(chunk, { stream: true }));
}

Deno.test({
  name: "logs carry the security events, request ids and closes, and never a secret or body",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "parley-logs-" });
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const wsUrl = `ws://127.0.0.1:${port}/api/ws`;
    const env = {
      KV_PATH: `${dir}/parley.kv`,
      LOG_LEVEL: "debug",
      REGISTER_LIMIT_PER_HOUR: "3",
      NO_COLOR: "1",
    };
    const child = new Deno.Command(Deno.execPath(), {
      args: ["serve", "-A", "--port", String(port), "--host", "127.0.0.1", "main.ts"],
      cwd: root,
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out: string[] = [];
    const reading = Promise.all([collect(child.stdout, out), collect(child.stderr, out)]);
    const secrets: string[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await (await fetch(`${url}/health`)).body?.cancel();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const pw = { alice: "alice-Pw-7f3k2", bob: "bob-Pw-9q8w1", carol: "carol-Pw-4x5z6" };
      secrets.push(...Object.values(pw));
      const alice = await register(url, `log_alice_${port}`, pw.alice);
      const bob = await register(url, `log_bob_${port}`, pw.bob);
      const form = await postForm({ url }, "/register", {
        username: `log_carol_${port}`,
        password: pw.carol,
      });
      equal(form.status, 303);
      const carolCookie = (form.headers.get("set-cookie") ?? "").split(";")[0];
      for (const a of [alice, bob]) {
        secrets.push(a.accessToken, a.refreshToken, a.cookie.split("=")[1]);
      }
      secrets.push(carolCookie.split("=")[1]);
      // The fourth sign-up from this address is over the limit.
      const limited = await api(url, "POST", "/api/auth/register", {
        body: { username: `log_dave_${port}`, password: "dave-Pw-1a2b3c" },
      });
      secrets.push("dave-Pw-1a2b3c");
      equal(limited.status, 429);

      // Bad sign-ins, then the throttle.
      for (let i = 0; i < 6; i++) {
        const wrong = `wrong-Pw-${i}-zz9`;
        secrets.push(wrong);
        await api(url, "POST", "/api/auth/login", {
          body: { username: bob.user.username, password: wrong },
        });
      }
      // A refresh, then the old refresh token again: reuse, the session is revoked.
      const refreshed = await api(url, "POST", "/api/auth/refresh", {
        body: { refreshToken: alice.refreshToken },
      });
      equal(refreshed.status, 200);
      secrets.push(refreshed.body.accessToken, refreshed.body.refreshToken);
      const reused = await api(url, "POST", "/api/auth/refresh", {
        body: { refreshToken: alice.refreshToken },
      });
      equal(reused.status, 401);

      const login = await api(url, "POST", "/api/auth/login", {
        body: { username: alice.user.username, password: pw.alice },
      });
      equal(login.status, 200);
      const aliceToken = login.body.accessToken;
      secrets.push(aliceToken, login.body.refreshToken);
      const direct = await api(url, "POST", "/api/conversations", {
        token: aliceToken,
        body: { kind: "direct", userId: bob.user.id },
      });
      const convId = direct.body.conversation.id;

      // Messages over the socket (token in the URL) and over HTTP.
      const ws = await WsClient.connect(wsUrl, aliceToken);
      for (let i = 0; i < 3; i++) {
        const body = `secret body ${i} ${crypto.randomUUID()}`;
        secrets.push(body);
        await ws.sendAcked(convId, body);
      }
      const httpBody = `http body ${crypto.randomUUID()}`;
      secrets.push(httpBody);
      equal(
        (await api(url, "POST", `/api/conversations/${convId}/messages`, {
          token: aliceToken,
          body: { id: crypto.randomUUID(), body: httpBody },
        })).status,
        201,
      );
      await ws.close();

      // A foreign origin for the socket, a cross-site post with the cookie.
      const foreign = await fetch(`${wsUrl.replace("ws", "http")}?token=${aliceToken}`, {
        headers: { origin: "https://evil.example", upgrade: "websocket" },
      });
      await foreign.body?.cancel();
      equal(foreign.status, 403);
      const csrf = await api(url, "POST", "/api/conversations", {
        cookie: alice.cookie,
        headers: { origin: "https://evil.example" },
        body: { kind: "direct", userId: bob.user.id },
      });
      equal(csrf.status, 403);

      // An abusive frame: too big.
      const abuser = await WsClient.connect(wsUrl, bob.accessToken);
      abuser.send("x".repeat(70 * 1024));
      equal((await abuser.closed).code, 1009);

      equal((await api(url, "POST", "/api/auth/logout", { token: bob.accessToken })).status, 204);

      // An operator resets a password while the server runs.
      const admin = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "scripts/admin.ts", "reset-password", bob.user.username],
        cwd: root,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(admin.code, 0);
      const newPassword = /password: (\S+)/.exec(new TextDecoder().decode(admin.stdout))![1];
      secrets.push(newPassword);
      out.push(new TextDecoder().decode(admin.stderr));
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await reading;
      await Deno.remove(dir, { recursive: true });
    }

    const text = out.join("");
    // The run's secret scan reads this server's lines too, with every secret used here.
    keepChildLog(text);
    for (const s of secrets) recordSecret("secret or body from logs_test", s);
    for (const s of secrets) {
      ok(s.length >= 8, "a real secret");
      ok(!text.includes(s), `a secret or body appears in the logs: ${s.slice(0, 12)}…`);
    }
    const lines = text.split("\n").map((l) => l.replace(/^\[serve-worker-\d+ *\] /, ""))
      .filter((l) => l.startsWith("{"));
    const entries = lines.map((l) => JSON.parse(l));
    const events = new Set(entries.map((e) => e.event).filter(Boolean));
    for (
      const e of [
        "login_failed",
        "login_throttled",
        "register_limited",
        "refresh_reuse",
        "origin_refused",
        "csrf_refused",
        "ws_abuse_closed",
        "session_revoked",
        "password_changed",
      ]
    ) ok(events.has(e), `security event ${e} logged`);

    const requests = entries.filter((e) => e.msg === "request");
    ok(requests.length > 20);
    for (const r of requests) {
      ok(r.ts && r.level === "info" && typeof r.requestId === "string");
      ok(typeof r.method === "string" && typeof r.route === "string");
      ok(Number.isInteger(r.status) && typeof r.ms === "number");
    }
    const send = requests.find((r) => r.route === "/api/conversations/:id/messages");
    ok(send?.userId, "a signed-in request names its user");
    ok(!requests.some((r) => r.route.includes(send!.userId)), "route patterns, not paths");
    const closes = entries.filter((e) => e.msg === "socket closed");
    ok(closes.some((c) => c.code === 1009));
    ok(closes.some((c) => c.code === 1000 && c.framesIn >= 3 && c.framesOut >= 4 && c.ms >= 0));
  },
});
