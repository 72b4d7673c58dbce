import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { api, directPair, register, startServer, WsClient } from "../helpers/server.ts";

Deno.test("direct conversations are one per pair, created idempotently, and refuse member and title routes", async () => {
  const srv = await startServer();
  try {
    const [alice, bob] = await Promise.all([register(srv.url), register(srv.url)]);
    const [first, second] = await Promise.all([
      api(srv.url, "POST", "/api/conversations", {
        token: alice.accessToken,
        body: { kind: "direct", userId: bob.user.id },
      }),
      api(srv.url, "POST", "/api/conversations", {
        token: bob.accessToken,
        body: { kind: "direct", userId: alice.user.id },
      }),
    ]);
    eq([first.status, second.status].sort(), [200, 201]);
    eq(first.body.conversation.id, second.body.conversation.id);
    eq(
      first.status === 201 ? first.body.conversation.title : second.body.conversation.title,
      first.status === 201 ? bob.user.displayName : alice.user.displayName,
    );
    const self = await api(srv.url, "POST", "/api/conversations", {
      token: alice.accessToken,
      body: { kind: "direct", userId: alice.user.id },
    });
    eq([self.status, self.body.error.code], [400, "invalid_input"]);
    const id = first.body.conversation.id;
    const carol = await register(srv.url);
    const add = await api(srv.url, "POST", `/api/conversations/${id}/members`, {
      token: alice.accessToken,
      body: { userId: carol.user.id },
    });
    eq([add.status, add.body.error.code], [403, "forbidden"]);
    const rename = await api(srv.url, "PATCH", `/api/conversations/${id}`, {
      token: alice.accessToken,
      body: { title: "x" },
    });
    eq(rename.status, 403);
    const detail = await api(srv.url, "GET", `/api/conversations/${id}`, {
      token: alice.accessToken,
    });
    eq(
      detail.body.members.map((m: { id: string }) => m.id).sort(),
      [alice.user.id, bob.user.id].sort(),
    );
    eq(detail.body.conversation.peer.id, bob.user.id);
  } finally {
    await srv.close();
  }
});

Deno.test("group roles: owner and admins manage members, members cannot; the owner leaving hands the group on", async () => {
  const srv = await startServer();
  const sockets: WsClient[] = [];
  try {
    const [owner, admin, member, extra] = await Promise.all(
      [1, 2, 3, 4].map(() => register(srv.url)),
    );
    const g = await api(srv.url, "POST", "/api/conversations", {
      token: owner.accessToken,
      body: { kind: "group", title: "Crew", memberIds: [admin.user.id, member.user.id] },
    });
    const id = g.body.conversation.id;
    const call = (who: typeof owner, method: string, path: string, body?: unknown) =>
      api(srv.url, method, `/api/conversations/${id}${path}`, { token: who.accessToken, body });
    eq((await call(member, "PATCH", `/members/${admin.user.id}`, { role: "admin" })).status, 403);
    eq((await call(owner, "PATCH", `/members/${admin.user.id}`, { role: "admin" })).status, 204);
    eq(
      (await call(admin, "PATCH", `/members/${member.user.id}`, { role: "admin" })).status,
      403,
      "only the owner sets roles",
    );
    eq((await call(member, "POST", "/members", { userId: extra.user.id })).status, 403);
    eq((await call(member, "PATCH", "", { title: "Mine" })).status, 403);
    const extraWs = await WsClient.connect(srv.wsUrl, extra.accessToken);
    sockets.push(extraWs);
    eq((await call(admin, "POST", "/members", { userId: extra.user.id })).status, 204);
    eq(
      (await call(admin, "POST", "/members", { userId: extra.user.id })).status,
      204,
      "adding again is fine",
    );
    const added = await extraWs.next((f) => f.type === "conversation");
    eq(added.conversation.id, id);
    eq(added.conversation.unread, 0, "a new member starts with nothing unread");
    eq((await call(admin, "PATCH", "", { title: "Crew 2" })).status, 204);
    eq((await call(member, "DELETE", `/members/${admin.user.id}`)).status, 403);
    eq(
      (await call(admin, "DELETE", `/members/${owner.user.id}`)).status,
      403,
      "an admin cannot remove the owner",
    );
    eq((await call(admin, "DELETE", `/members/${extra.user.id}`)).status, 204);
    eq((await extraWs.next((f) => f.type === "removed")).conversationId, id);
    eq((await call(extra, "GET", "")).status, 404, "a removed member sees nothing");
    // The owner leaves: the earliest-joined admin becomes owner.
    eq((await call(owner, "DELETE", `/members/${owner.user.id}`)).status, 204);
    const detail = await call(admin, "GET", "");
    eq(detail.body.conversation.title, "Crew 2");
    eq(detail.body.members.map((m: { id: string; role: string }) => [m.id, m.role]), [[
      admin.user.id,
      "owner",
    ], [member.user.id, "member"]]);
    eq(
      (await call(member, "DELETE", `/members/${member.user.id}`)).status,
      204,
      "anyone may leave",
    );
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
    await srv.close();
  }
});

Deno.test("read receipts reach other members and the reader's other connections; unread counts follow the cursor", async () => {
  const srv = await startServer();
  try {
    const { alice, bob, convId: id } = await directPair(srv.url);
    const a = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const b1 = await WsClient.connect(srv.wsUrl, bob.accessToken);
    const b2 = await WsClient.connect(srv.wsUrl, bob.accessToken);
    for (let i = 0; i < 3; i++) await a.sendMessage(id, `m${i}`);
    const unread = async (who: typeof alice) =>
      (await api(srv.url, "GET", "/api/conversations", { token: who.accessToken })).body
        .conversations[0];
    eq((await unread(bob)).unread, 3);
    eq((await unread(alice)).unread, 0, "own messages are read");
    b1.send({ type: "read", conversationId: id, seq: 2 });
    const receipt = await a.next((f) => f.type === "receipt");
    eq(receipt, { type: "receipt", conversationId: id, userId: bob.user.id, seq: 2 });
    eq((await b2.next((f) => f.type === "receipt")).seq, 2);
    eq((await unread(bob)).unread, 1);
    // The cursor only moves forward, and a seq past the head is taken as the head.
    const back = await api(srv.url, "POST", `/api/conversations/${id}/read`, {
      token: bob.accessToken,
      body: { seq: 1 },
    });
    eq(back.status, 204);
    eq((await unread(bob)).lastReadSeq, 2);
    await api(srv.url, "POST", `/api/conversations/${id}/read`, {
      token: bob.accessToken,
      body: { seq: 999 },
    });
    eq((await unread(bob)).lastReadSeq, 3);
    eq((await unread(bob)).unread, 0);
    const detail = await api(srv.url, "GET", `/api/conversations/${id}`, {
      token: alice.accessToken,
    });
    eq(detail.body.members.find((m: { id: string }) => m.id === bob.user.id).lastReadSeq, 3);
    ok(
      !b1.frames.some((f) => f.type === "receipt" && f.seq === 2),
      "the reading connection itself gets no receipt",
    );
    await Promise.all([a.close(), b1.close(), b2.close()]);
  } finally {
    await srv.close();
  }
});

Deno.test("typing reaches other members only, at most once a second", async () => {
  const srv = await startServer();
  try {
    const { alice, bob, convId: id } = await directPair(srv.url);
    const a = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const b = await WsClient.connect(srv.wsUrl, bob.accessToken);
    for (let i = 0; i < 5; i++) a.send({ type: "typing", conversationId: id });
    const t = await b.next((f) => f.type === "typing");
    eq(t, { type: "typing", conversationId: id, userId: alice.user.id });
    a.send({ type: "ping", reqId: "after" });
    await a.next((f) => f.type === "pong");
    b.send({ type: "ping", reqId: "b" });
    await b.next((f) => f.type === "pong");
    eq(b.frames.filter((f) => f.type === "typing").length, 1);
    ok(!a.frames.some((f) => f.type === "typing"));
    await Promise.all([a.close(), b.close()]);
  } finally {
    await srv.close();
  }
});

Deno.test("presence: online on connect, offline with lastSeen when the last connection closes or goes silent", async () => {
  const srv = await startServer({ HEARTBEAT_TIMEOUT_MS: "1500" });
  try {
    const { alice, bob } = await directPair(srv.url);
    const a = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const keepAlive = setInterval(() => a.send({ type: "ping" }), 200);
    try {
      const b1 = await WsClient.connect(srv.wsUrl, bob.accessToken);
      const b2 = await WsClient.connect(srv.wsUrl, bob.accessToken);
      eq(await a.next((f) => f.type === "presence" && f.online), {
        type: "presence",
        userId: bob.user.id,
        online: true,
        lastSeen: null,
      });
      const peer = async () =>
        (await api(srv.url, "GET", "/api/conversations", { token: alice.accessToken })).body
          .conversations[0].peer;
      eq((await peer()).online, true);
      const search = await api(srv.url, "GET", `/api/users?q=${bob.user.username.slice(0, 6)}`, {
        token: alice.accessToken,
      });
      ok(
        search.body.users.some((u: { id: string; online: boolean }) =>
          u.id === bob.user.id && u.online
        ),
      );
      await b1.close();
      const bKeep = setInterval(() => b2.send({ type: "ping" }), 200);
      await new Promise((r) => setTimeout(r, 1800));
      eq((await peer()).online, true, "still online while one connection is open");
      clearInterval(bKeep);
      // b2 now stays silent: the server closes it with 4002 and bob goes offline.
      eq((await b2.closed).code, 4002);
      const off = await a.next((f) => f.type === "presence" && !f.online, 3000);
      eq(off.userId, bob.user.id);
      ok(off.lastSeen > 0);
      const p = await peer();
      eq(p.online, false);
      eq(p.lastSeen, off.lastSeen);
    } finally {
      clearInterval(keepAlive);
      await a.close();
    }
  } finally {
    await srv.close();
  }
});

Deno.test("in a group larger than 50, presence is not fanned out frame by frame, and the member list still shows who is online", async () => {
  const srv = await startServer();
  const sockets: WsClient[] = [];
  try {
    const people = await Promise.all(
      Array.from(
        { length: 55 },
        (_, i) => register(srv.url, `big_${Date.now().toString(36)}_${i}`),
      ),
    );
    const [owner, ...rest] = people;
    const g = await api(srv.url, "POST", "/api/conversations", {
      token: owner.accessToken,
      body: { kind: "group", title: "Everyone", memberIds: rest.map((p) => p.user.id) },
    });
    eq(g.status, 201);
    const watcher = await WsClient.connect(srv.wsUrl, owner.accessToken);
    sockets.push(watcher);
    for (const p of rest.slice(0, 20)) {
      sockets.push(await WsClient.connect(srv.wsUrl, p.accessToken));
    }
    // A frame sent after all connects comes back only after any presence flush would have run.
    await new Promise((r) => setTimeout(r, 300));
    watcher.send({ type: "ping", reqId: "after" });
    await watcher.next((f) => f.reqId === "after");
    eq(watcher.frames.filter((f) => f.type === "presence").length, 0);
    const detail = await api(srv.url, "GET", `/api/conversations/${g.body.conversation.id}`, {
      token: owner.accessToken,
    });
    const online = detail.body.members.filter((m: { online: boolean }) => m.online).length;
    eq(online, 21, "the owner and the 20 connected members are online");
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
    await srv.close();
  }
});
