/**
 * The account API and the sign-in pages, end to end: a real server on port 0 over a real
 * in-memory KV, driven with real HTTP requests.
 */
import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { SignJWT } from "jose";
import {
  type Account,
  api,
  getPage,
  postForm,
  register,
  uniqueName,
  withServer,
} from "../helpers/server.ts";

function b64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function claimsOf(token: string): { sub: string; sid: string; exp: number } {
  const payload = token.split(".")[1];
  return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
}

/** The `name=value` part of the session cookie a response sets, or null. */
function sessionCookieOf(headers: Headers): string | null {
  const cookie = headers.getSetCookie().find((c) => c.startsWith("parley_session="));
  return cookie ? cookie.split(";")[0] : null;
}

type Answer = Awaited<ReturnType<typeof api>>;

function assertUnauthorized(res: Answer, what: string) {
  equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
  equal(res.body?.error?.code, "unauthorized", what);
  equal(typeof res.body.error.message, "string", what);
}

function assertNoSecrets(value: unknown, what: string) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  ok(!/passwordHash|scrypt\$/.test(text), `${what} leaks a password hash: ${text}`);
}

/** Posts an HTML form the way a browser on `origin` would. */
// ---------------------------------------------------------------------------------------------
// register, me, logout

Deno.test("register answers 201 with the user and tokens, and /api/me accepts its bearer token and its cookie", async () => {
  await withServer(async (srv) => {
    const name = uniqueName("reg");
    const res = await api(srv.url, "POST", "/api/auth/register", {
      body: { username: name, password: "password123", displayName: "  Reggie  " },
    });
    equal(res.status, 201, JSON.stringify(res.body));
    deepStrictEqual(Object.keys(res.body.user).sort(), [
      "avatarUrl",
      "displayName",
      "id",
      "username",
    ]);
    equal(res.body.user.username, name);
    equal(res.body.user.displayName, "Reggie");
    equal(typeof res.body.accessToken, "string");
    equal(typeof res.body.refreshToken, "string");
    ok(res.body.expiresIn > 0);
    assertNoSecrets(res.body, "register");
    const setCookie = res.headers.get("set-cookie") ?? "";
    match(setCookie, /HttpOnly/i);
    match(setCookie, /SameSite=Lax/i);
    const cookie = sessionCookieOf(res.headers);
    ok(cookie);

    const byBearer = await api(srv.url, "GET", "/api/me", { token: res.body.accessToken });
    equal(byBearer.status, 200);
    deepStrictEqual(byBearer.body, { user: res.body.user });
    assertNoSecrets(byBearer.body, "me");

    const byCookie = await api(srv.url, "GET", "/api/me", { cookie });
    equal(byCookie.status, 200);
    deepStrictEqual(byCookie.body, { user: res.body.user });
  });
});

Deno.test("/api/me without credentials answers 401 unauthorized", async () => {
  await withServer(async (srv) => {
    assertUnauthorized(await api(srv.url, "GET", "/api/me"), "no credentials");
    assertUnauthorized(
      await api(srv.url, "GET", "/api/me", { cookie: "parley_session=nope.nope" }),
      "unknown cookie",
    );
  });
});

Deno.test("logout answers 204 and the session's bearer token and cookie get 401 afterwards", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const other = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: acct.user.username, password: "password123" },
    });
    equal(other.status, 200);

    const out = await api(srv.url, "POST", "/api/auth/logout", { token: acct.accessToken });
    equal(out.status, 204, JSON.stringify(out.body));

    assertUnauthorized(
      await api(srv.url, "GET", "/api/me", { token: acct.accessToken }),
      "revoked bearer",
    );
    assertUnauthorized(
      await api(srv.url, "GET", "/api/me", { cookie: acct.cookie }),
      "revoked cookie",
    );
    assertUnauthorized(
      await api(srv.url, "POST", "/api/auth/refresh", {
        body: { refreshToken: acct.refreshToken },
      }),
      "revoked refresh token",
    );
    assertUnauthorized(
      await api(srv.url, "POST", "/api/auth/logout", { token: acct.accessToken }),
      "second logout",
    );
    // The user's other session is untouched.
    equal((await api(srv.url, "GET", "/api/me", { token: other.body.accessToken })).status, 200);
  });
});

Deno.test("logout by cookie answers 204, clears the cookie, and the cookie gets 401 afterwards", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const out = await api(srv.url, "POST", "/api/auth/logout", {
      cookie: acct.cookie,
      headers: { origin: srv.url },
    });
    equal(out.status, 204, JSON.stringify(out.body));
    match(out.headers.get("set-cookie") ?? "", /parley_session=;|Max-Age=0/i);
    assertUnauthorized(await api(srv.url, "GET", "/api/me", { cookie: acct.cookie }), "cookie");
    assertUnauthorized(await api(srv.url, "GET", "/api/me", { token: acct.accessToken }), "bearer");
  });
});

Deno.test("register rejects a taken username with 409 username_taken, also when it differs only in case", async () => {
  await withServer(async (srv) => {
    const name = uniqueName("dup");
    await register(srv.url, name);
    for (const variant of [name, name.toUpperCase(), name[0].toUpperCase() + name.slice(1)]) {
      const res = await api(srv.url, "POST", "/api/auth/register", {
        body: { username: variant, password: "password456" },
      });
      equal(res.status, 409, variant);
      equal(res.body.error.code, "username_taken", variant);
      equal(typeof res.body.error.message, "string");
    }
    // The original owner still signs in with the original password.
    const login = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: name, password: "password123" },
    });
    equal(login.status, 200);
  });
});

Deno.test("register rejects malformed bodies with 400 invalid_input naming the field", async () => {
  await withServer(async (srv) => {
    const cases: { what: string; body: unknown; field?: string }[] = [
      { what: "missing username", body: { password: "password123" }, field: "username" },
      {
        what: "short password",
        body: { username: uniqueName(), password: "short" },
        field: "password",
      },
      {
        what: "long password",
        body: { username: uniqueName(), password: "x".repeat(257) },
        field: "password",
      },
      {
        what: "bad characters",
        body: { username: "bad name!", password: "password123" },
        field: "username",
      },
      {
        what: "too short username",
        body: { username: "ab", password: "password123" },
        field: "username",
      },
      {
        what: "too long username",
        body: { username: "a".repeat(33), password: "password123" },
        field: "username",
      },
      {
        what: "username not text",
        body: { username: 42, password: "password123" },
        field: "username",
      },
      {
        what: "display name too long",
        body: { username: uniqueName(), password: "password123", displayName: "d".repeat(65) },
        field: "displayName",
      },
      { what: "JSON array", body: [{ username: uniqueName(), password: "password123" }] },
      { what: "JSON null", body: null },
      { what: "JSON string", body: "hello" },
    ];
    for (const c of cases) {
      const res = await api(srv.url, "POST", "/api/auth/register", { body: c.body });
      equal(res.status, 400, `${c.what}: ${JSON.stringify(res.body)}`);
      equal(res.body.error.code, "invalid_input", c.what);
      ok(res.body.error.message.length > 0, c.what);
      if (c.field) equal(res.body.error.field, c.field, c.what);
    }
    for (const raw of ["{not json", "", "username=alice&password=password123"]) {
      const res = await fetch(srv.url + "/api/auth/register", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: raw,
      });
      const body = await res.json();
      equal(res.status, 400, `raw ${JSON.stringify(raw)}: ${JSON.stringify(body)}`);
      equal(body.error.code, "invalid_input");
    }
  });
});

Deno.test("a JSON body over 64 KiB is refused with 413 too_large", async () => {
  await withServer(async (srv) => {
    const body = {
      username: uniqueName(),
      password: "password123",
      displayName: "x".repeat(70_000),
    };
    for (const path of ["/api/auth/register", "/api/auth/login"]) {
      const res = await api(srv.url, "POST", path, { body });
      equal(res.status, 413, path);
      equal(res.body.error.code, "too_large", path);
    }
    // Without a Content-Length (streamed body) the limit holds too.
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    const res = await fetch(srv.url + "/api/auth/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(ctrl) {
          for (let i = 0; i < bytes.length; i += 8192) ctrl.enqueue(bytes.slice(i, i + 8192));
          ctrl.close();
        },
      }),
    });
    const answer = await res.json();
    equal(res.status, 413, JSON.stringify(answer));
    equal(answer.error.code, "too_large");
  });
});

// ---------------------------------------------------------------------------------------------
// access tokens

Deno.test("tampered, foreign-key, alg:none and garbage bearer tokens get 401 unauthorized", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const victim = await register(srv.url);
    const [header, payload, sig] = acct.accessToken.split(".");
    const claims = claimsOf(acct.accessToken);
    const vClaims = claimsOf(victim.accessToken);

    const tampered = [
      header,
      b64url(JSON.stringify({ ...claims, sub: vClaims.sub, sid: vClaims.sid })),
      sig,
    ].join(".");
    const foreignKey = await new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer("parley")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode("not-the-server-secret-but-long-enough-0123456789"));
    const algNone = [b64url(JSON.stringify({ alg: "none", typ: "JWT" })), payload, ""].join(".");
    const algNoneKeptSig = [b64url(JSON.stringify({ alg: "none", typ: "JWT" })), payload, sig]
      .join(".");

    const bad: Record<string, string> = {
      tampered,
      foreignKey,
      algNone,
      algNoneKeptSig,
      truncated: acct.accessToken.slice(0, -3),
      garbage: "not-a-token",
      refreshTokenAsBearer: acct.refreshToken,
    };
    for (const [what, token] of Object.entries(bad)) {
      assertUnauthorized(await api(srv.url, "GET", "/api/me", { token }), what);
    }
    // The genuine token still works.
    equal((await api(srv.url, "GET", "/api/me", { token: acct.accessToken })).status, 200);
  });
});

Deno.test("an expired access token gets 401, and refresh hands out a working one", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    equal((await api(srv.url, "GET", "/api/me", { token: acct.accessToken })).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    assertUnauthorized(
      await api(srv.url, "GET", "/api/me", { token: acct.accessToken }),
      "expired",
    );
    const refreshed = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: acct.refreshToken },
    });
    equal(refreshed.status, 200);
    equal(refreshed.body.expiresIn, 1);
    equal(
      (await api(srv.url, "GET", "/api/me", { token: refreshed.body.accessToken })).status,
      200,
    );
  }, { ACCESS_TOKEN_TTL_SEC: "1" });
});

// ---------------------------------------------------------------------------------------------
// refresh

Deno.test("refresh with a refresh token answers new tokens and the used refresh token gets 401", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const res = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: acct.refreshToken },
    });
    equal(res.status, 200, JSON.stringify(res.body));
    deepStrictEqual(Object.keys(res.body).sort(), ["accessToken", "expiresIn", "refreshToken"]);
    notEqual(res.body.refreshToken, acct.refreshToken);
    ok(res.body.expiresIn > 0);
    equal(
      (await api(srv.url, "GET", "/api/me", { token: res.body.accessToken })).body.user.id,
      acct.user.id,
    );

    assertUnauthorized(
      await api(srv.url, "POST", "/api/auth/refresh", {
        body: { refreshToken: acct.refreshToken },
      }),
      "used refresh token",
    );
  });
});

Deno.test("reusing a refresh token revokes the session: even the newest access token gets 401", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const first = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: acct.refreshToken },
    });
    equal(first.status, 200);
    const stolen = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: acct.refreshToken },
    });
    assertUnauthorized(stolen, "reused refresh token");

    assertUnauthorized(
      await api(srv.url, "GET", "/api/me", { token: first.body.accessToken }),
      "newest access token",
    );
    assertUnauthorized(
      await api(srv.url, "POST", "/api/auth/refresh", {
        body: { refreshToken: first.body.refreshToken },
      }),
      "newest refresh token",
    );
    assertUnauthorized(await api(srv.url, "GET", "/api/me", { cookie: acct.cookie }), "cookie");
  });
});

Deno.test("refresh by cookie (no body) answers new tokens and sets a new cookie; the old cookie stops working", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const res = await api(srv.url, "POST", "/api/auth/refresh", {
      cookie: acct.cookie,
      headers: { origin: srv.url },
    });
    equal(res.status, 200, JSON.stringify(res.body));
    equal(typeof res.body.accessToken, "string");
    const newCookie = sessionCookieOf(res.headers);
    ok(newCookie);
    notEqual(newCookie, acct.cookie);
    match(res.headers.get("set-cookie") ?? "", /HttpOnly/i);

    equal((await api(srv.url, "GET", "/api/me", { cookie: newCookie })).status, 200);
    assertUnauthorized(await api(srv.url, "GET", "/api/me", { cookie: acct.cookie }), "old cookie");
    equal((await api(srv.url, "GET", "/api/me", { token: res.body.accessToken })).status, 200);
  });
});

Deno.test("cookie-authenticated API posts from a foreign Origin are refused with 403 forbidden", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    for (const path of ["/api/auth/refresh", "/api/auth/logout"]) {
      const res = await api(srv.url, "POST", path, {
        cookie: acct.cookie,
        headers: { origin: "https://evil.example" },
      });
      equal(res.status, 403, `${path}: ${JSON.stringify(res.body)}`);
      equal(res.body.error.code, "forbidden", path);
      equal(sessionCookieOf(res.headers), null, path);
    }
    // The session is untouched: the cookie was neither rotated nor revoked.
    equal((await api(srv.url, "GET", "/api/me", { cookie: acct.cookie })).status, 200);
  });
});

Deno.test("refresh without a refresh token or cookie, or with a malformed one, answers 401", async () => {
  await withServer(async (srv) => {
    assertUnauthorized(await api(srv.url, "POST", "/api/auth/refresh", { body: {} }), "empty body");
    for (const refreshToken of ["", "nope", "a.b", "x".repeat(300)]) {
      assertUnauthorized(
        await api(srv.url, "POST", "/api/auth/refresh", { body: { refreshToken } }),
        refreshToken.slice(0, 10),
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// login

Deno.test("login answers the same 401 body for a wrong password and for an unknown user", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const wrong = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: acct.user.username, password: "wrong-password" },
    });
    const unknown = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: uniqueName("ghost"), password: "wrong-password" },
    });
    assertUnauthorized(wrong, "wrong password");
    assertUnauthorized(unknown, "unknown user");
    deepStrictEqual(wrong.body, unknown.body);
    equal(sessionCookieOf(wrong.headers), null);
  });
});

Deno.test("login with the right password answers 200 with tokens and an HttpOnly SameSite=Lax cookie", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const res = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: acct.user.username.toUpperCase(), password: "password123" },
    });
    equal(res.status, 200, JSON.stringify(res.body));
    deepStrictEqual(res.body.user, acct.user);
    equal(typeof res.body.accessToken, "string");
    equal(typeof res.body.refreshToken, "string");
    ok(res.body.expiresIn > 0);
    assertNoSecrets(res.body, "login");
    const setCookie = res.headers.get("set-cookie") ?? "";
    match(setCookie, /^parley_session=/);
    match(setCookie, /HttpOnly/i);
    match(setCookie, /SameSite=Lax/i);
    match(setCookie, /Path=\//i);
    const cookie = sessionCookieOf(res.headers)!;
    equal((await api(srv.url, "GET", "/api/me", { cookie })).body.user.id, acct.user.id);
    equal((await api(srv.url, "GET", "/api/me", { token: res.body.accessToken })).status, 200);
  });
});

Deno.test("login is throttled after 5 failures for a username: the 6th attempt, even right, gets 429 rate_limited", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const bystander = await register(srv.url);
    for (let i = 0; i < 5; i++) {
      const res = await api(srv.url, "POST", "/api/auth/login", {
        body: { username: acct.user.username, password: `wrong-${i}-password` },
      });
      assertUnauthorized(res, `failure ${i + 1}`);
    }
    const blocked = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: acct.user.username.toUpperCase(), password: "password123" },
    });
    equal(blocked.status, 429, JSON.stringify(blocked.body));
    equal(blocked.body.error.code, "rate_limited");
    ok(blocked.body.error.retryAfterMs > 0);
    ok(blocked.body.error.retryAfterMs <= 15 * 60 * 1000);
    ok(Number(blocked.headers.get("retry-after")) > 0);
    equal(sessionCookieOf(blocked.headers), null);

    // Other accounts are not affected, and existing sessions keep working.
    equal(
      (await api(srv.url, "POST", "/api/auth/login", {
        body: { username: bystander.user.username, password: "password123" },
      })).status,
      200,
    );
    equal((await api(srv.url, "GET", "/api/me", { token: acct.accessToken })).status, 200);
  });
});

Deno.test("sign-ups are limited per address: past REGISTER_LIMIT_PER_HOUR, 429 rate_limited and no account", async () => {
  await withServer(async (srv) => {
    for (let i = 0; i < 3; i++) await register(srv.url);
    const name = uniqueName();
    const blocked = await api(srv.url, "POST", "/api/auth/register", {
      body: { username: name, password: "password123" },
    });
    equal(blocked.status, 429, JSON.stringify(blocked.body));
    equal(blocked.body.error.code, "rate_limited");
    ok(blocked.body.error.retryAfterMs > 0);
    ok(blocked.body.error.retryAfterMs <= 60 * 60 * 1000);
    ok(Number(blocked.headers.get("retry-after")) > 0);
    equal(sessionCookieOf(blocked.headers), null);
    // Nothing was created: the name cannot sign in.
    assertUnauthorized(
      await api(srv.url, "POST", "/api/auth/login", {
        body: { username: name, password: "password123" },
      }),
      "the refused sign-up",
    );
    // The form says so on the page, keeping what was typed.
    const form = await postForm(srv, "/register", {
      username: name,
      password: "password123",
      displayName: "Still Here",
    });
    equal(form.status, 429);
    equal(sessionCookieOf(form.headers), null);
    match(form.text, /Too many accounts were created from your network/);
    match(form.text, /value="Still Here"/);
  }, { REGISTER_LIMIT_PER_HOUR: "3" });
});

Deno.test("parallel sign-ups from one address cannot pass the limit", async () => {
  await withServer(async (srv) => {
    const statuses = await Promise.all(
      Array.from({ length: 12 }, () =>
        api(srv.url, "POST", "/api/auth/register", {
          body: { username: uniqueName(), password: "password123" },
        }).then((r) => r.status)),
    );
    equal(statuses.filter((s) => s === 201).length, 4, statuses.join(","));
    equal(statuses.filter((s) => s === 429).length, 8, statuses.join(","));
  }, { REGISTER_LIMIT_PER_HOUR: "4" });
});

Deno.test("parallel wrong-password logins for one username get at most 5 checks; the rest get 429", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api(srv.url, "POST", "/api/auth/login", {
          body: { username: acct.user.username, password: "guess-guess-guess" },
        })),
    );
    const statuses = answers.map((r) => r.status);
    equal(statuses.filter((s) => s === 401).length, 5, statuses.join(","));
    equal(statuses.filter((s) => s === 429).length, 15, statuses.join(","));
    const right = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: acct.user.username, password: "password123" },
    });
    equal(right.status, 429);
  });
});

Deno.test("a successful login clears the username's earlier failures", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const login = (password: string) =>
      api(srv.url, "POST", "/api/auth/login", { body: { username: acct.user.username, password } });
    for (let i = 0; i < 4; i++) equal((await login("wrong-password")).status, 401);
    equal((await login("password123")).status, 200);
    for (let i = 0; i < 4; i++) equal((await login("wrong-password")).status, 401);
    equal((await login("password123")).status, 200);
  });
});

Deno.test("login rejects a body without a password with 400 invalid_input", async () => {
  await withServer(async (srv) => {
    const res = await api(srv.url, "POST", "/api/auth/login", { body: { username: "someone" } });
    equal(res.status, 400);
    equal(res.body.error.code, "invalid_input");
    equal(res.body.error.field, "password");
  });
});

// ---------------------------------------------------------------------------------------------
// pages

Deno.test("GET /login and /register answer 200 HTML forms", async () => {
  await withServer(async (srv) => {
    for (const path of ["/login", "/register"]) {
      const res = await getPage(srv, path);
      equal(res.status, 200, path);
      match(res.headers.get("content-type") ?? "", /text\/html/);
      match(res.text, /^<!doctype html>/i);
      match(res.text, new RegExp(`<form[^>]*action="${path}"`));
      match(res.text, /name="username"/);
      match(res.text, /name="password"/);
    }
  });
});

Deno.test("GET / redirects to /login when signed out and to /chat when signed in", async () => {
  await withServer(async (srv) => {
    const out = await getPage(srv, "/");
    ok([302, 303].includes(out.status));
    equal(new URL(out.headers.get("location")!, srv.url).pathname, "/login");
    const acct = await register(srv.url);
    const inside = await getPage(srv, "/", acct.cookie);
    ok([302, 303].includes(inside.status));
    equal(new URL(inside.headers.get("location")!, srv.url).pathname, "/chat");
  });
});

Deno.test("the register form signs up with a 303 to /chat and a session cookie, never handing out API tokens", async () => {
  await withServer(async (srv) => {
    const name = uniqueName("form");
    const res = await postForm(srv, "/register", {
      username: name,
      password: "password123",
      displayName: "Forma Lee",
    });
    equal(res.status, 303, res.text);
    equal(new URL(res.headers.get("location")!, srv.url).pathname, "/chat");
    const cookie = sessionCookieOf(res.headers);
    ok(cookie);
    match(res.headers.get("set-cookie")!, /HttpOnly/i);
    match(res.headers.get("set-cookie")!, /SameSite=Lax/i);
    ok(!/accessToken|refreshToken/.test(res.text));

    const chat = await getPage(srv, "/chat", cookie);
    equal(chat.status, 200);
    match(chat.text, /Forma Lee/);
    ok(!/accessToken|refreshToken|passwordHash/.test(chat.text), "the chat page leaks a token");

    const me = await api(srv.url, "GET", "/api/me", { cookie });
    equal(me.body.user.username, name);
    equal(me.body.user.displayName, "Forma Lee");

    // Signed in, the form pages send the browser on to the chat.
    equal((await getPage(srv, "/login", cookie)).status, 302);
  });
});

Deno.test("the register form with a bad username answers 400 HTML with the error next to the field", async () => {
  await withServer(async (srv) => {
    const res = await postForm(srv, "/register", {
      username: "bad name!",
      password: "password123",
      displayName: "Keep Me",
    });
    equal(res.status, 400);
    equal(sessionCookieOf(res.headers), null);
    match(res.text, /^<!doctype html>/i);
    match(res.text, /id="f-username-error"[^>]*>Username must be 3 to 32 characters/);
    match(res.text, /aria-describedby="f-username-error"/);
    match(res.text, /value="Keep Me"/, "the form keeps what was typed");
    ok(!/value="password123"/.test(res.text), "the password is not echoed back");

    const taken = await register(srv.url);
    const dup = await postForm(srv, "/register", {
      username: taken.user.username.toUpperCase(),
      password: "password123",
    });
    equal(dup.status, 400);
    match(dup.text, /id="f-username-error"[^>]*>That username is already taken/);
  });
});

Deno.test("a form POST from a foreign Origin is refused with 403", async () => {
  await withServer(async (srv) => {
    const name = uniqueName("csrf");
    const res = await postForm(srv, "/register", { username: name, password: "password123" }, {
      origin: "https://evil.example",
    });
    equal(res.status, 403);
    equal(sessionCookieOf(res.headers), null);
    ok(!/at .*\.ts:\d+/.test(res.text), "no stack trace");
    // Nothing was created.
    equal(
      (await api(srv.url, "POST", "/api/auth/login", {
        body: { username: name, password: "password123" },
      }))
        .status,
      401,
    );

    const acct = await register(srv.url);
    const logout = await postForm(srv, "/logout", {}, {
      origin: "https://evil.example",
      cookie: acct.cookie,
    });
    equal(logout.status, 403);
    equal((await api(srv.url, "GET", "/api/me", { cookie: acct.cookie })).status, 200);
  });
});

Deno.test("a form post whose body cannot be read answers a 400 page, not a 500 or a stack trace", async () => {
  await withServer(async (srv) => {
    for (const path of ["/register", "/login"]) {
      const res = await fetch(srv.url + path, {
        method: "POST",
        headers: { origin: srv.url, "content-type": "multipart/form-data; boundary=xyz" },
        body: "this is not multipart--xyz\r\n",
        redirect: "manual",
      });
      const text = await res.text();
      ok(res.status === 400 || res.status === 401, `${path}: ${res.status} ${text.slice(0, 200)}`);
      match(text, /^<!doctype html>/i, path);
      ok(!/\.tsx?:\d+|\.js:\d+|Error:/.test(text), `${path} leaks a stack trace`);
    }
  });
});

Deno.test("the login form signs in with a 303 to /chat, and a wrong password answers 401 HTML", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const ok303 = await postForm(srv, "/login", {
      username: acct.user.username,
      password: "password123",
    });
    equal(ok303.status, 303);
    equal(new URL(ok303.headers.get("location")!, srv.url).pathname, "/chat");
    const cookie = sessionCookieOf(ok303.headers);
    ok(cookie);
    ok(!/accessToken|refreshToken/.test(ok303.text));
    equal((await api(srv.url, "GET", "/api/me", { cookie })).status, 200);

    const bad = await postForm(srv, "/login", {
      username: acct.user.username,
      password: "wrong-password",
    });
    equal(bad.status, 401);
    equal(sessionCookieOf(bad.headers), null);
    match(bad.text, /role="alert"[^>]*>That username and password do not match/);
    match(bad.text, new RegExp(`value="${acct.user.username}"`));
  });
});

Deno.test("the logout form revokes the session and redirects to /login", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const res = await postForm(srv, "/logout", {}, { cookie: acct.cookie });
    equal(res.status, 303);
    equal(new URL(res.headers.get("location")!, srv.url).pathname, "/login");
    equal((await api(srv.url, "GET", "/api/me", { cookie: acct.cookie })).status, 401);
    equal((await api(srv.url, "GET", "/api/me", { token: acct.accessToken })).status, 401);
  });
});

Deno.test("GET /chat redirects to /login without a session and shows the display name with one", async () => {
  await withServer(async (srv) => {
    const out = await getPage(srv, "/chat");
    equal(out.status, 302);
    equal(new URL(out.headers.get("location")!, srv.url).pathname, "/login");

    const acct: Account = await register(srv.url, uniqueName("pagey"));
    const inside = await getPage(srv, "/chat", acct.cookie);
    equal(inside.status, 200);
    match(inside.headers.get("content-type") ?? "", /text\/html/);
    ok(inside.text.includes(acct.user.displayName), "the page shows the display name");

    const stale = await getPage(srv, "/chat", "parley_session=stale.cookie");
    equal(stale.status, 302);
  });
});

// ---------------------------------------------------------------------------------------------
// health

Deno.test("GET /health and GET /ready answer 200", async () => {
  await withServer(async (srv) => {
    const health = await api(srv.url, "GET", "/health");
    equal(health.status, 200);
    equal(health.body.status, "ok");
    const ready = await api(srv.url, "GET", "/ready");
    equal(ready.status, 200);
    equal(ready.body.status, "ready");
  });
});
