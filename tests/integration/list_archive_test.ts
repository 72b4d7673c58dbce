/**
 * `PATCH /api/conversations/:id/settings`: archive and mute per member, how an archived
 * conversation comes back, and the route's refusals.
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import type { Conversation } from "../../lib/protocol.ts";
import { type Account, api, directPair, register, withServer } from "../helpers/server.ts";

const settings = (base: string, who: Account, convId: string, body: unknown) =>
  api(base, "PATCH", `/api/conversations/${convId}/settings`, { token: who.accessToken, body });

async function list(base: string, who: Account, archived = false): Promise<Conversation[]> {
  const res = await api(base, "GET", `/api/conversations${archived ? "?archived=1" : ""}`, {
    token: who.accessToken,
  });
  eq(res.status, 200);
  return res.body.conversations;
}

const send = async (base: string, who: Account, convId: string) => {
  const res = await api(base, "POST", `/api/conversations/${convId}/messages`, {
    token: who.accessToken,
    body: { id: crypto.randomUUID(), body: "hello" },
  });
  eq(res.status, 201);
};

Deno.test("archiving moves a conversation to the archived list until another member writes", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    await send(srv.url, bob, convId);
    eq((await settings(srv.url, alice, convId, { archived: true })).status, 204);
    eq((await list(srv.url, alice)).map((c) => c.id), []);
    const archived = await list(srv.url, alice, true);
    eq(archived.map((c) => [c.id, c.archived, c.muted]), [[convId, true, false]]);
    // Only alice archived it.
    eq((await list(srv.url, bob)).map((c) => [c.id, c.archived]), [[convId, false]]);
    eq(await list(srv.url, bob, true), []);
    // Her own message does not bring it back.
    await send(srv.url, alice, convId);
    eq((await list(srv.url, alice)).length, 0);
    eq((await list(srv.url, alice, true)).map((c) => c.id), [convId]);
    // Bob's does.
    await send(srv.url, bob, convId);
    eq((await list(srv.url, alice)).map((c) => [c.id, c.archived]), [[convId, false]]);
    eq(await list(srv.url, alice, true), []);
    const one = await api(srv.url, "GET", `/api/conversations/${convId}`, {
      token: alice.accessToken,
    });
    eq(one.body.conversation.archived, false);
  });
});

Deno.test("unarchiving brings it back at once; a muted archived one stays archived", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    eq((await settings(srv.url, alice, convId, { archived: true })).status, 204);
    eq((await settings(srv.url, alice, convId, { archived: false })).status, 204);
    eq((await list(srv.url, alice)).map((c) => [c.id, c.archived]), [[convId, false]]);
    eq(
      (await settings(srv.url, alice, convId, { archived: true, muted: true })).status,
      204,
    );
    await send(srv.url, bob, convId);
    await send(srv.url, bob, convId);
    eq(await list(srv.url, alice), []);
    eq((await list(srv.url, alice, true)).map((c) => [c.archived, c.muted, c.unread]), [[
      true,
      true,
      2,
    ]]);
    // Unmuting keeps it archived: what came while muted does not count; the next message does.
    eq((await settings(srv.url, alice, convId, { muted: false })).status, 204);
    eq((await list(srv.url, alice, true)).map((c) => [c.archived, c.muted]), [[true, false]]);
    await send(srv.url, bob, convId);
    eq((await list(srv.url, alice)).map((c) => [c.archived, c.muted]), [[false, false]]);
    // Muting alone does not archive.
    eq((await settings(srv.url, alice, convId, { muted: true })).status, 204);
    eq((await list(srv.url, alice)).map((c) => [c.archived, c.muted]), [[false, true]]);
  });
});

Deno.test("the archived list pages like the main one", async () => {
  await withServer(async (srv) => {
    const alice = await register(srv.url);
    const others = await Promise.all([1, 2, 3, 4, 5].map(() => register(srv.url)));
    const convIds: string[] = [];
    for (const o of others) {
      const res = await api(srv.url, "POST", "/api/conversations", {
        token: alice.accessToken,
        body: { kind: "direct", userId: o.user.id },
      });
      convIds.push(res.body.conversation.id);
      await send(srv.url, o, res.body.conversation.id);
      eq(
        (await settings(srv.url, alice, res.body.conversation.id, { archived: true })).status,
        204,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const res = await api(srv.url, "GET", `/api/conversations?archived=1&limit=2${q}`, {
        token: alice.accessToken,
      });
      eq(res.status, 200);
      ok(res.body.conversations.length <= 2);
      seen.push(...res.body.conversations.map((c: Conversation) => c.id));
      cursor = res.body.nextCursor;
    }
    eq(seen, [...convIds].reverse(), "newest first, each once");
    eq(await list(srv.url, alice), []);
  });
});

Deno.test("settings refuse bad input, strangers, unknown conversations and forged requests", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const stranger = await register(srv.url);
    for (
      const [body, field] of [
        [{}, undefined],
        [{ muted: "yes" }, "muted"],
        [{ archived: 1 }, "archived"],
        [{ archived: true, colour: "red" }, undefined],
        [[true], undefined],
        [null, undefined],
      ] as const
    ) {
      const res = await settings(srv.url, alice, convId, body);
      eq([res.status, res.body.error.code], [400, "invalid_input"], JSON.stringify(body));
      if (field) eq(res.body.error.field, field);
    }
    const notMember = await settings(srv.url, stranger, convId, { archived: true });
    eq([notMember.status, notMember.body.error.code], [404, "not_found"]);
    const unknown = await settings(srv.url, alice, crypto.randomUUID(), { muted: true });
    eq([unknown.status, unknown.body.error.code], [404, "not_found"]);
    const anon = await settings(srv.url, { ...alice, accessToken: "" }, convId, { muted: true });
    eq(anon.status, 401);
    // With the cookie, a request from another site is refused before it changes anything.
    const forged = await fetch(`${srv.url}/api/conversations/${convId}/settings`, {
      method: "PATCH",
      headers: {
        cookie: alice.cookie,
        origin: "https://evil.example",
        "content-type": "text/plain",
      },
      body: JSON.stringify({ archived: true }),
    });
    eq([forged.status, (await forged.json()).error.code], [403, "forbidden"]);
    eq((await list(srv.url, alice)).map((c) => c.archived), [false]);
    // The same from the app's own page works.
    const own = await api(srv.url, "PATCH", `/api/conversations/${convId}/settings`, {
      cookie: alice.cookie,
      headers: { origin: srv.url },
      body: { archived: true },
    });
    eq(own.status, 204);
    eq((await list(srv.url, alice, true)).map((c) => c.archived), [true]);
  });
});
