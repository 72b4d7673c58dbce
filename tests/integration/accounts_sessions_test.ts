/**
 * Password change and sessions (`POST /api/me/password`, `GET`/`DELETE /api/me/sessions`), end
 * to end: real server, real KV, real sockets that must close with 4001.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { keys } from "../../lib/store/keys.ts";
import type { SessionRecord } from "../../lib/store/records.ts";
import { TOUCH_EVERY_MS } from "../../lib/store/sessions.ts";
import {
  api,
  getPage,
  postForm,
  register,
  startServer,
  uniqueName,
  withServer,
  WsClient,
} from "../helpers/server.ts";

const CHROME =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

async function login(base: string, username: string, password: string, ua?: string) {
  const res = await api(base, "POST", "/api/auth/login", {
    body: { username, password },
    headers: ua ? { "user-agent": ua } : {},
  });
  equal(res.status, 200, JSON.stringify(res.body));
  return {
    accessToken: res.body.accessToken as string,
    refreshToken: res.body.refreshToken as string,
    cookie: (res.headers.get("set-cookie") ?? "").split(";")[0],
  };
}

Deno.test("a password change closes the other sessions' sockets with 4001, keeps the current one, and the new password works", async () => {
  await withServer(async (srv) => {
    const name = uniqueName("pw");
    const a = await register(srv.url, name, "password123");
    const other = await login(srv.url, name, "password123");
    const mine = await WsClient.connect(srv.wsUrl, a.accessToken);
    const theirs = await WsClient.connect(srv.wsUrl, other.accessToken);
    try {
      const res = await api(srv.url, "POST", "/api/me/password", {
        token: a.accessToken,
        body: { currentPassword: "password123", newPassword: "brand-new-pass" },
      });
      equal(res.status, 204, JSON.stringify(res.body));
      equal((await theirs.closed).code, 4001);
      // The other session's tokens are dead; this one's still work.
      equal((await api(srv.url, "GET", "/api/me", { token: other.accessToken })).status, 401);
      equal(
        (await api(srv.url, "POST", "/api/auth/refresh", {
          body: { refreshToken: other.refreshToken },
        })).status,
        401,
      );
      equal((await api(srv.url, "GET", "/api/me", { token: a.accessToken })).status, 200);
      mine.send({ type: "ping", reqId: "still-here" });
      await mine.next((f) => f.type === "pong" && f.reqId === "still-here");
      equal(
        (await api(srv.url, "POST", "/api/auth/login", {
          body: { username: name, password: "password123" },
        })).status,
        401,
      );
      await login(srv.url, name, "brand-new-pass");
    } finally {
      await mine.close();
      await theirs.close();
    }
  });
});

Deno.test("a wrong current password is 403 forbidden with its field, and is throttled like a login (429)", async () => {
  await withServer(async (srv) => {
    const a = await register(srv.url);
    for (let i = 0; i < 5; i++) {
      const res = await api(srv.url, "POST", "/api/me/password", {
        token: a.accessToken,
        body: { currentPassword: "not-it-at-all", newPassword: "whatever123" },
      });
      equal(res.status, 403, JSON.stringify(res.body));
      equal(res.body.error.code, "forbidden");
      equal(res.body.error.field, "currentPassword");
    }
    const limited = await api(srv.url, "POST", "/api/me/password", {
      token: a.accessToken,
      body: { currentPassword: "password123", newPassword: "whatever123" },
    });
    equal(limited.status, 429, JSON.stringify(limited.body));
    equal(limited.body.error.code, "rate_limited");
    ok(Number(limited.headers.get("retry-after")) > 0);
    // Still signed in: a refusal never ends the session.
    equal((await api(srv.url, "GET", "/api/me", { token: a.accessToken })).status, 200);
  });
});

Deno.test("a too-short new password is 400 with its field; a cross-site form post is refused", async () => {
  await withServer(async (srv) => {
    const a = await register(srv.url);
    const res = await api(srv.url, "POST", "/api/me/password", {
      token: a.accessToken,
      body: { currentPassword: "password123", newPassword: "short" },
    });
    equal(res.status, 400);
    equal(res.body.error.field, "newPassword");
    const forged = await postForm(srv, "/settings/password", {
      currentPassword: "password123",
      newPassword: "hijacked-pass",
    }, { cookie: a.cookie, origin: "https://evil.example" });
    equal(forged.status, 403);
    // The cookie API refuses a cross-site JSON request too.
    const cross = await api(srv.url, "POST", "/api/me/password", {
      cookie: a.cookie,
      headers: { origin: "https://evil.example" },
      body: { currentPassword: "password123", newPassword: "hijacked-pass" },
    });
    equal(cross.status, 403);
    equal(cross.body.error.code, "forbidden");
  });
});

Deno.test("GET /api/me/sessions lists each device with the current one marked; DELETE revokes one, another user's is 404", async () => {
  await withServer(async (srv) => {
    const name = uniqueName("ses");
    const a = await register(srv.url, name, "password123");
    const phone = await login(srv.url, name, "password123", CHROME);
    const phoneWs = await WsClient.connect(srv.wsUrl, phone.accessToken);
    try {
      const list = await api(srv.url, "GET", "/api/me/sessions", { token: a.accessToken });
      equal(list.status, 200);
      equal(list.body.sessions.length, 2);
      const [first, second] = list.body.sessions;
      equal(first.current, true);
      equal(second.current, false);
      equal(second.userAgent, CHROME);
      equal(second.device, "Chrome on Linux");
      for (const s of list.body.sessions) {
        deepStrictEqual(
          Object.keys(s).sort(),
          ["createdTs", "current", "device", "id", "lastUsedTs", "userAgent"],
        );
        ok(s.lastUsedTs >= s.createdTs);
      }

      const stranger = await register(srv.url);
      const foreign = await api(srv.url, "DELETE", `/api/me/sessions/${second.id}`, {
        token: stranger.accessToken,
      });
      equal(foreign.status, 404);
      equal((await api(srv.url, "GET", "/api/me", { token: phone.accessToken })).status, 200);

      const del = await api(srv.url, "DELETE", `/api/me/sessions/${second.id}`, {
        token: a.accessToken,
      });
      equal(del.status, 204);
      equal((await phoneWs.closed).code, 4001);
      equal((await api(srv.url, "GET", "/api/me", { token: phone.accessToken })).status, 401);
      const after = await api(srv.url, "GET", "/api/me/sessions", { token: a.accessToken });
      equal(after.body.sessions.length, 1);
      const again = await api(srv.url, "DELETE", `/api/me/sessions/${second.id}`, {
        token: a.accessToken,
      });
      equal(again.status, 404);
    } finally {
      await phoneWs.close();
    }
  });
});

Deno.test("DELETE /api/me/sessions signs every other device out; the settings form does the same without JavaScript", async () => {
  await withServer(async (srv) => {
    const name = uniqueName("all");
    const a = await register(srv.url, name, "password123");
    const b = await login(srv.url, name, "password123");
    const c = await login(srv.url, name, "password123");
    const res = await api(srv.url, "DELETE", "/api/me/sessions", { token: a.accessToken });
    equal(res.status, 200);
    equal(res.body.revoked, 2);
    equal((await api(srv.url, "GET", "/api/me", { token: b.accessToken })).status, 401);
    equal((await api(srv.url, "GET", "/api/me", { token: c.accessToken })).status, 401);

    const d = await login(srv.url, name, "password123");
    const page = await getPage(srv, "/settings", a.cookie);
    match(page.text, /data-testid="session"[^>]*data-current="false"/);
    const form = await postForm(srv, "/settings/sessions/revoke-others", {}, { cookie: a.cookie });
    equal(form.status, 303);
    equal((await api(srv.url, "GET", "/api/me", { token: d.accessToken })).status, 401);
    equal((await api(srv.url, "GET", "/api/me", { cookie: a.cookie })).status, 200);
  });
});

Deno.test("a cookie session slides when used after five minutes, never past SESSION_MAX_SEC", async () => {
  const srv = await startServer({ SESSION_TTL_SEC: "3600", SESSION_MAX_SEC: "7200" });
  try {
    const a = await register(srv.url);
    const sessionId = a.cookie.split("=")[1].split(".")[0];
    const read = async () => (await srv.kv.get<SessionRecord>(keys.session(sessionId))).value!;
    const before = await read();
    // Pretend the last use was six minutes ago (the clock itself is not faked: the server's
    // own timers must keep running).
    const aged = {
      ...before,
      lastUsedAt: before.lastUsedAt! - TOUCH_EVERY_MS - 60_000,
      expiresAt: before.expiresAt - 30 * 60_000,
    };
    await srv.kv.set(keys.session(sessionId), aged);
    const page = await getPage(srv, "/settings", a.cookie);
    equal(page.status, 200);
    const renewed = page.headers.getSetCookie().find((c) => c.startsWith("parley_session="));
    ok(renewed, "the cookie is sent again with its new lifetime");
    match(renewed!, /Max-Age=(35\d\d|3600)/);
    const after = await read();
    ok(after.lastUsedAt! > aged.lastUsedAt!);
    ok(after.expiresAt > aged.expiresAt, "the session slid");
    ok(after.expiresAt <= before.createdAt + 7200_000);

    // Near the cap, a renewal stops at the cap.
    const old = {
      ...after,
      createdAt: Date.now() - 7000_000,
      maxExpiresAt: Date.now() + 200_000,
      lastUsedAt: Date.now() - TOUCH_EVERY_MS - 1000,
    };
    await srv.kv.set(keys.session(sessionId), old);
    await getPage(srv, "/settings", a.cookie);
    equal((await read()).expiresAt, old.maxExpiresAt);
  } finally {
    await srv.close();
  }
});
