/**
 * Blocking (`/api/me/blocks`), end to end: what a blocked user can no longer do (403), and
 * what their sockets no longer hear (the blocker's presence and typing, also in groups).
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import {
  api,
  directPair,
  getPage,
  postForm,
  register,
  withServer,
  WsClient,
} from "../helpers/server.ts";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("a blocked user cannot start a direct conversation with the blocker or send into one (403); unblocking lifts it", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const put = await api(srv.url, "PUT", `/api/me/blocks/${bob.user.id}`, {
      token: alice.accessToken,
    });
    equal(put.status, 204);
    const list = await api(srv.url, "GET", "/api/me/blocks", { token: alice.accessToken });
    deepStrictEqual(list.body.users.map((u: { id: string }) => u.id), [bob.user.id]);

    const http = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
      token: bob.accessToken,
      body: { id: crypto.randomUUID(), body: "hello?" },
    });
    equal(http.status, 403, JSON.stringify(http.body));
    equal(http.body.error.code, "forbidden");
    const ws = await WsClient.connect(srv.wsUrl, bob.accessToken);
    try {
      const refused = await ws.sendMessage(convId, "over the socket");
      equal(refused.type, "error");
      equal(refused.error.code, "forbidden");
    } finally {
      await ws.close();
    }
    const again = await api(srv.url, "POST", "/api/conversations", {
      token: bob.accessToken,
      body: { kind: "direct", userId: alice.user.id },
    });
    equal(again.status, 403);
    // The blocker is not refused anything.
    const mine = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
      token: alice.accessToken,
      body: { id: crypto.randomUUID(), body: "I can still write" },
    });
    equal(mine.status, 201, JSON.stringify(mine.body));

    equal(
      (await api(srv.url, "DELETE", `/api/me/blocks/${bob.user.id}`, { token: alice.accessToken }))
        .status,
      204,
    );
    const after = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
      token: bob.accessToken,
      body: { id: crypto.randomUUID(), body: "thanks" },
    });
    equal(after.status, 201, JSON.stringify(after.body));
  });
});

Deno.test("a blocked user cannot add the blocker to a group, nor create a group with them", async () => {
  await withServer(async (srv) => {
    const [alice, bob, carol] = await Promise.all([
      register(srv.url),
      register(srv.url),
      register(srv.url),
    ]);
    await api(srv.url, "PUT", `/api/me/blocks/${bob.user.id}`, { token: alice.accessToken });
    const made = await api(srv.url, "POST", "/api/conversations", {
      token: bob.accessToken,
      body: { kind: "group", title: "Bob's", memberIds: [alice.user.id, carol.user.id] },
    });
    equal(made.status, 403, JSON.stringify(made.body));
    const group = await api(srv.url, "POST", "/api/conversations", {
      token: bob.accessToken,
      body: { kind: "group", title: "Bob's", memberIds: [carol.user.id] },
    });
    equal(group.status, 201);
    const add = await api(
      srv.url,
      "POST",
      `/api/conversations/${group.body.conversation.id}/members`,
      { token: bob.accessToken, body: { userId: alice.user.id } },
    );
    equal(add.status, 403, JSON.stringify(add.body));
    equal(add.body.error.code, "forbidden");
  });
});

Deno.test("in a group, a blocked user hears none of the blocker's presence or typing; others do", async () => {
  await withServer(async (srv) => {
    const [alice, bob, carol] = await Promise.all([
      register(srv.url),
      register(srv.url),
      register(srv.url),
    ]);
    const group = await api(srv.url, "POST", "/api/conversations", {
      token: carol.accessToken,
      body: { kind: "group", title: "Three", memberIds: [alice.user.id, bob.user.id] },
    });
    const groupId = group.body.conversation.id;
    await api(srv.url, "PUT", `/api/me/blocks/${bob.user.id}`, { token: alice.accessToken });
    const wb = await WsClient.connect(srv.wsUrl, bob.accessToken);
    const wc = await WsClient.connect(srv.wsUrl, carol.accessToken);
    const wa = await WsClient.connect(srv.wsUrl, alice.accessToken);
    try {
      await wc.next((f) => f.type === "presence" && f.userId === alice.user.id && f.online);
      wa.send({ type: "typing", conversationId: groupId });
      await wc.next((f) => f.type === "typing" && f.userId === alice.user.id);
      // Carol heard both; give Bob's socket the same time and more, then look.
      await wait(500);
      ok(!wb.frames.some((f) => f.userId === alice.user.id && f.type === "presence"));
      ok(!wb.frames.some((f) => f.userId === alice.user.id && f.type === "typing"));
      // Bob's own typing still reaches Alice (blocking is one way).
      wb.send({ type: "typing", conversationId: groupId });
      await wa.next((f) => f.type === "typing" && f.userId === bob.user.id);
    } finally {
      await wa.close();
      await wb.close();
      await wc.close();
    }
  });
});

Deno.test("blocks refuse oneself (400) and unknown users (404), need sign-in, and refuse a cross-site cookie request", async () => {
  await withServer(async (srv) => {
    const a = await register(srv.url);
    const self = await api(srv.url, "PUT", `/api/me/blocks/${a.user.id}`, { token: a.accessToken });
    equal(self.status, 400);
    const unknown = await api(srv.url, "PUT", `/api/me/blocks/${crypto.randomUUID()}`, {
      token: a.accessToken,
    });
    equal(unknown.status, 404);
    equal((await api(srv.url, "GET", "/api/me/blocks")).status, 401);
    const b = await register(srv.url);
    const forged = await api(srv.url, "PUT", `/api/me/blocks/${b.user.id}`, {
      cookie: a.cookie,
      headers: { origin: "https://evil.example" },
    });
    equal(forged.status, 403);
    const list = await api(srv.url, "GET", "/api/me/blocks", { token: a.accessToken });
    deepStrictEqual(list.body.users, []);
  });
});

Deno.test("a direct chat starts by username from a plain form; a blocked user's form is refused on the page", async () => {
  await withServer(async (srv) => {
    const [alice, bob, carol] = await Promise.all([
      register(srv.url),
      register(srv.url),
      register(srv.url),
    ]);
    const page = await getPage(srv, "/chat", alice.cookie);
    ok(page.text.includes('action="/chat/direct"'));
    const started = await postForm(srv, "/chat/direct", { username: `@${bob.user.username}` }, {
      cookie: alice.cookie,
    });
    equal(started.status, 303);
    const list = await api(srv.url, "GET", "/api/conversations", { token: alice.accessToken });
    equal(list.body.conversations.length, 1);
    equal(started.headers.get("location"), `/chat/${list.body.conversations[0].id}`);

    const unknown = await postForm(srv, "/chat/direct", { username: "nobody_here_at_all" }, {
      cookie: alice.cookie,
    });
    equal(unknown.status, 400);
    ok(unknown.text.includes("There is no user"));

    await api(srv.url, "PUT", `/api/me/blocks/${carol.user.id}`, { token: alice.accessToken });
    const refused = await postForm(srv, "/chat/direct", { username: alice.user.username }, {
      cookie: carol.cookie,
    });
    equal(refused.status, 400);
    ok(refused.text.includes("they have blocked you"));
    const forged = await postForm(srv, "/chat/direct", { username: bob.user.username }, {
      cookie: carol.cookie,
      origin: "https://evil.example",
    });
    equal(forged.status, 403);
  });
});

Deno.test("the list, the members and search show a blocked user the blocker as offline", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const carol = await register(srv.url);
    const group = await api(srv.url, "POST", "/api/conversations", {
      token: carol.accessToken,
      body: { kind: "group", title: "G", memberIds: [alice.user.id, bob.user.id] },
    });
    const wa = await WsClient.connect(srv.wsUrl, alice.accessToken);
    try {
      const online = async (token: string) => {
        const list = await api(srv.url, "GET", "/api/conversations", { token });
        const direct = list.body.conversations.find((c: { id: string }) => c.id === convId);
        const detail = await api(
          srv.url,
          "GET",
          `/api/conversations/${group.body.conversation.id}`,
          { token },
        );
        const member = detail.body.members.find((m: { id: string }) => m.id === alice.user.id);
        const search = await api(
          srv.url,
          "GET",
          `/api/users?q=${encodeURIComponent(alice.user.username)}`,
          { token },
        );
        const found = search.body.users.find((u: { id: string }) => u.id === alice.user.id);
        return [direct?.peer.online ?? null, member.online, found?.online ?? null];
      };
      deepStrictEqual(await online(bob.accessToken), [true, true, true]);
      await api(srv.url, "PUT", `/api/me/blocks/${bob.user.id}`, { token: alice.accessToken });
      deepStrictEqual(await online(bob.accessToken), [false, false, false]);
      // Someone the blocker did not block still sees them online in search.
      deepStrictEqual((await online(carol.accessToken))[2], true);
      const seenByCarol = await api(
        srv.url,
        "GET",
        `/api/conversations/${group.body.conversation.id}`,
        { token: carol.accessToken },
      );
      ok(seenByCarol.body.members.find((m: { id: string }) => m.id === alice.user.id).online);
    } finally {
      await wa.close();
    }
  });
});
