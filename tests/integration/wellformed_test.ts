/**
 * Client strings that become part of a KV key must be well-formed Unicode (contract part F).
 * KV stores key strings as UTF-8, turning every lone surrogate into U+FFFD: two different ids
 * would then share one key, and the second message would be answered with the first's ack and
 * never stored.
 */
import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { api, directPair, register, withServer, WsClient } from "../helpers/server.ts";

const LONE = ["X\ud800", "X\udfff", "\udc00abc", "a\ud83d", "\ud800\ud800"];

/** Sends a message with any id (the helper's ids are UUIDs) and waits for its ack or error. */
async function sendWithId(ws: WsClient, conversationId: string, body: string, id: string) {
  const from = ws.frames.length;
  ws.send({ type: "send", id, conversationId, body });
  return await ws.next((f) => (f.type === "ack" || f.type === "error") && f.id === id, 5000, from);
}

Deno.test("a send whose id holds a lone surrogate is refused with field id, over HTTP and the socket", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const path = `/api/conversations/${convId}/messages`;
    for (const id of LONE) {
      const res = await api(srv.url, "POST", path, {
        token: alice.accessToken,
        body: { id, body: `http ${id}` },
      });
      eq([res.status, res.body.error.code, res.body.error.field], [400, "invalid_input", "id"]);
    }
    const ws = await WsClient.connect(srv.wsUrl, alice.accessToken);
    try {
      for (const id of LONE) {
        const res = await sendWithId(ws, convId, `ws ${id}`, id);
        eq([res.type, res.error?.code, res.error?.field], ["error", "invalid_input", "id"]);
      }
      // A well-formed id with a real surrogate pair is fine, and two such ids stay apart.
      const a = await sendWithId(ws, convId, "first", "X\ud83d\ude00");
      const b = await sendWithId(ws, convId, "second", "X\ud83d\ude01");
      eq([a.type, b.type], ["ack", "ack"]);
      equal(b.seq, a.seq + 1);
    } finally {
      await ws.close();
    }
    const history = await api(srv.url, "GET", path, { token: alice.accessToken });
    eq(history.body.messages.map((m: { body: string }) => m.body), ["first", "second"]);
  });
});

Deno.test("two ids that differ only in lone surrogates never share an ack", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const path = `/api/conversations/${convId}/messages`;
    const first = await api(srv.url, "POST", path, {
      token: alice.accessToken,
      body: { id: "X\ud800", body: "first" },
    });
    const second = await api(srv.url, "POST", path, {
      token: alice.accessToken,
      body: { id: "X\udfff", body: "second" },
    });
    equal(first.status, 400);
    equal(second.status, 400);
    const history = await api(srv.url, "GET", path, { token: alice.accessToken });
    eq(history.body.messages, []);
  });
});

Deno.test("every other client string bound for a KV key must be well-formed", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const token = alice.accessToken;
    const bad = "u\ud800";
    const refusals: [string, string, string, unknown, string][] = [
      ["POST", "/api/conversations", "direct userId", { kind: "direct", userId: bad }, "userId"],
      [
        "POST",
        "/api/conversations",
        "group memberIds",
        { kind: "group", title: "t", memberIds: [bob.user.id, bad] },
        "memberIds.1",
      ],
      ["POST", `/api/conversations/${convId}/members`, "added userId", { userId: bad }, "userId"],
    ];
    for (const [method, path, what, body, field] of refusals) {
      const res = await api(srv.url, method, path, { token, body });
      eq([res.status, res.body.error?.code, res.body.error?.field], [
        400,
        "invalid_input",
        field,
      ], what);
    }
    // Usernames and display names are keys too (the username index, the display-name index,
    // the login throttle).
    const login = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: "alice\udfff", password: "password123" },
    });
    eq([login.status, login.body.error?.field], [400, "username"]);
    const reg = await api(srv.url, "POST", "/api/auth/register", {
      body: { username: "carol_wf", password: "password123", displayName: "Carol \ud800" },
    });
    eq([reg.status, reg.body.error?.field], [400, "displayName"]);
    equal((await register(srv.url, "carol_wf")).user.username, "carol_wf");
    // A refresh token names its session, a key.
    const refresh = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: `${alice.refreshToken.split(".")[0]}\ud800.x` },
    });
    eq([refresh.status, refresh.body.error?.field], [400, "refreshToken"]);

    // Frames naming a conversation.
    const ws = await WsClient.connect(srv.wsUrl, token);
    try {
      const from = ws.frames.length;
      ws.send({ type: "send", id: "ok-id", conversationId: `${convId}\ud800`, body: "x" });
      const err = await ws.next((f) => f.type === "error", 5000, from);
      eq([err.error.code, err.error.field], ["invalid_input", "conversationId"]);
      for (const type of ["sync", "read", "typing"]) {
        const at = ws.frames.length;
        ws.send({ type, conversationId: `c\udc00`, afterSeq: 0, seq: 0, reqId: type });
        const e = await ws.next((f) => f.type === "error" && f.reqId === type, 5000, at);
        eq([e.error.code, e.error.field], ["invalid_input", "conversationId"], type);
      }
    } finally {
      await ws.close();
    }
  });
});
