/**
 * The HTTP edge against requests a browser would never make on its own, or would make for an
 * attacker: forged state changes riding on the cookie, oversized forms, ids and queries past
 * any real size, session ids used as weapons, list flooding, forged client addresses.
 */
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import {
  api,
  directPair,
  getPage,
  postForm,
  register,
  type TestServer,
  uniqueName,
  withServer,
} from "../helpers/server.ts";

async function history(srv: TestServer, token: string, convId: string) {
  const res = await api(srv.url, "GET", `/api/conversations/${convId}/messages`, { token });
  return res.body.messages as { body: string }[];
}

Deno.test("a state change riding on the cookie needs the server's own origin, whatever its content type", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const path = `/api/conversations/${convId}/messages`;
    const body = { id: crypto.randomUUID(), body: "forged" };
    // JSON from a foreign page, with the cookie the browser attaches by itself.
    const foreign = await api(srv.url, "POST", path, {
      cookie: alice.cookie,
      body,
      headers: { origin: "https://evil.example" },
    });
    eq([foreign.status, foreign.body.error.code], [403, "forbidden"]);
    // No Origin at all (not a browser's same-origin request either).
    const bare = await api(srv.url, "POST", path, { cookie: alice.cookie, body });
    equal(bare.status, 403);
    // A non-Bearer Authorization header neither exempts the request nor signs it in.
    const basic = { origin: "https://evil.example", authorization: "Basic Zm9vOmJhcg==" };
    const res = await api(srv.url, "POST", path, { cookie: alice.cookie, body, headers: basic });
    equal(res.status, 403, JSON.stringify(res.body));
    const form = await fetch(`${srv.url}/chat/${convId}/messages`, {
      method: "POST",
      headers: { ...basic, cookie: alice.cookie },
      body: new URLSearchParams(body),
      redirect: "manual",
    });
    await form.body?.cancel();
    equal(form.status, 403);
    const basicOnly = await api(srv.url, "GET", "/api/me", {
      cookie: alice.cookie,
      headers: { authorization: "Basic Zm9vOmJhcg==" },
    });
    equal(basicOnly.status, 401, "another scheme is not the cookie's stand-in");
    eq(await history(srv, alice.accessToken, convId), []);

    // A form posted from the app's own page under its no-referrer policy says `Origin: null`;
    // the browser's own Sec-Fetch-Site tells which site it came from.
    const viaForm = (site: string) =>
      fetch(`${srv.url}/chat/${convId}/messages`, {
        method: "POST",
        headers: { origin: "null", "sec-fetch-site": site, cookie: alice.cookie },
        body: new URLSearchParams({ id: crypto.randomUUID(), body: `form from ${site}` }),
        redirect: "manual",
      }).then(async (r) => (await r.body?.cancel(), r.status));
    equal(await viaForm("cross-site"), 403);
    equal(await viaForm("same-origin"), 303);
    eq((await history(srv, alice.accessToken, convId)).map((m) => m.body), [
      "form from same-origin",
    ]);

    // The same send from the app's own page, and by bearer token, goes through.
    const own = await api(srv.url, "POST", path, {
      cookie: alice.cookie,
      body,
      headers: { origin: srv.url },
    });
    equal(own.status, 201, JSON.stringify(own.body));
    const bearer = await api(srv.url, "POST", path, {
      token: alice.accessToken,
      body: { id: crypto.randomUUID(), body: "by token" },
    });
    equal(bearer.status, 201);
  });
});

Deno.test("form posts are bounded like JSON: an oversized one is refused, not read or echoed", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const huge = "x".repeat(200 * 1024);
    const login = await postForm(srv, "/login", { username: huge, password: "password123" });
    equal(login.status, 413);
    ok(login.text.length < 1000, "nothing of it comes back");
    const send = await postForm(srv, `/chat/${convId}/messages`, {
      id: crypto.randomUUID(),
      body: huge,
    }, { cookie: alice.cookie });
    equal(send.status, 413);
    ok(send.text.length < 1000);
    eq(await history(srv, alice.accessToken, convId), []);
  });
});

Deno.test("ids, queries and seqs past any real size answer 4xx or an empty page, never 500", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const long = "c".repeat(5000);
    const detail = await api(srv.url, "GET", `/api/conversations/${long}`, {
      token: alice.accessToken,
    });
    eq([detail.status, detail.body.error.code], [404, "not_found"]);
    const member = await api(srv.url, "DELETE", `/api/conversations/${convId}/members/${long}`, {
      token: alice.accessToken,
    });
    equal(member.status, 403, "a direct chat has no members to remove");
    const page = await getPage(srv, `/chat/${long}`, alice.cookie);
    equal(page.status, 404);
    const search = await api(srv.url, "GET", `/api/users?q=${"q".repeat(3000)}`, {
      token: alice.accessToken,
    });
    eq([search.status, search.body.error.code, search.body.error.field], [
      400,
      "invalid_input",
      "q",
    ]);
    for (const query of ["before=0", "before=1", `after=${Number.MAX_SAFE_INTEGER}`]) {
      const res = await api(srv.url, "GET", `/api/conversations/${convId}/messages?${query}`, {
        token: alice.accessToken,
      });
      equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      eq([res.body.messages, res.body.hasMore], [[], false], query);
    }
  });
});

Deno.test("a wrong refresh secret is refused without ending the session; a reused one ends it", async () => {
  await withServer(async (srv) => {
    const acct = await register(srv.url);
    const sessionId = acct.refreshToken.split(".")[0];
    const guess = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: `${sessionId}.not-the-secret` },
    });
    equal(guess.status, 401);
    equal((await api(srv.url, "GET", "/api/me", { token: acct.accessToken })).status, 200);

    const first = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: acct.refreshToken },
    });
    equal(first.status, 200);
    const reuse = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: acct.refreshToken },
    });
    equal(reuse.status, 401);
    equal(
      (await api(srv.url, "GET", "/api/me", { token: first.body.accessToken })).status,
      401,
      "a copied refresh token ends the session",
    );
  });
});

Deno.test("nobody can fill someone's conversation list by the thousand", async () => {
  await withServer(async (srv) => {
    const [spammer, victim, friend] = await Promise.all(
      [1, 2, 3].map(() => register(srv.url)),
    );
    const openDm = () =>
      api(srv.url, "POST", "/api/conversations", {
        token: spammer.accessToken,
        body: { kind: "direct", userId: friend.user.id },
      }).then((r) => r.status);
    equal(await openDm(), 201);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await api(srv.url, "POST", "/api/conversations", {
        token: spammer.accessToken,
        body: { kind: "group", title: `spam ${i}`, memberIds: [victim.user.id] },
      });
      statuses.push(res.status);
      if (res.status === 429) {
        equal(res.body.error.code, "rate_limited");
        ok(res.body.error.retryAfterMs > 0);
      }
    }
    equal(statuses.filter((s) => s === 201).length, 19, statuses.join(","));
    const list = await api(srv.url, "GET", "/api/conversations", { token: victim.accessToken });
    equal(list.body.conversations.length, 19);
    // Opening the existing direct chat again is not limited, even with no placements left.
    for (let i = 0; i < 3; i++) equal(await openDm(), 200);
  });
});

Deno.test("X-Forwarded-For counts only behind TRUST_PROXY_HOPS", async () => {
  const signUp = (srv: TestServer, xff: string) =>
    api(srv.url, "POST", "/api/auth/register", {
      body: { username: uniqueName(), password: "password123" },
      headers: { "x-forwarded-for": xff },
    }).then((r) => r.status);
  // Not trusted: every request is the socket's address, whatever the header says.
  await withServer(async (srv) => {
    eq([await signUp(srv, "203.0.113.5"), await signUp(srv, "198.51.100.7")], [201, 429]);
  }, { REGISTER_LIMIT_PER_HOUR: "1" });
  // Behind one proxy: the address it saw (the last entry) is the client's.
  await withServer(async (srv) => {
    eq(
      [
        await signUp(srv, "10.0.0.1, 203.0.113.5"),
        await signUp(srv, "10.0.0.2, 203.0.113.5"),
        await signUp(srv, "198.51.100.7"),
        await signUp(srv, "2001:db8:1:2::1"),
        await signUp(srv, "2001:db8:1:2::99"),
      ],
      [201, 429, 201, 201, 429],
    );
  }, { REGISTER_LIMIT_PER_HOUR: "1", TRUST_PROXY_HOPS: "1" });
});
