/**
 * Account deletion and export (`DELETE /api/me`, `GET /api/me/export`), end to end. The KV is
 * scanned after a deletion: no key of the user's sessions, profile, avatar, presence, blocks or
 * throttles may be left.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { sampleImages } from "../../lib/attachments/testing.ts";
import { keys } from "../../lib/store/keys.ts";
import type { UserRecord } from "../../lib/store/records.ts";
import {
  api,
  directPair,
  getPage,
  postForm,
  register,
  uniqueName,
  withServer,
  WsClient,
} from "../helpers/server.ts";

/** Key prefixes that may still name a deleted user: the conversations' own history. */
const HISTORY = new Set(["messages", "idem", "head", "conversations", "direct", "events"]);

async function keysNaming(kv: Deno.Kv, ...needles: string[]): Promise<Deno.KvKey[]> {
  const out: Deno.KvKey[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    if (HISTORY.has(String(e.key[0]))) continue;
    const text = JSON.stringify(e.key.map(String));
    if (needles.some((n) => text.includes(n))) out.push(e.key);
  }
  return out;
}

Deno.test("DELETE /api/me erases the account: sockets 4001, groups handed over, messages kept as a deleted account's, no key left, the name free again", async () => {
  await withServer(async (srv) => {
    const name = uniqueName("gone");
    const leaver = await register(srv.url, name, "password123");
    const bob = await register(srv.url);
    const dave = await register(srv.url);
    const carol = await register(srv.url);
    const direct = await api(srv.url, "POST", "/api/conversations", {
      token: leaver.accessToken,
      body: { kind: "direct", userId: bob.user.id },
    });
    const group = await api(srv.url, "POST", "/api/conversations", {
      token: leaver.accessToken,
      body: { kind: "group", title: "Leaving party", memberIds: [bob.user.id, carol.user.id] },
    });
    equal(group.status, 201);
    const groupId = group.body.conversation.id;
    const ws = await WsClient.connect(srv.wsUrl, leaver.accessToken);
    await ws.sendAcked(groupId, "last words");
    await ws.sendAcked(direct.body.conversation.id, "bye bob");
    // A picture, a block both ways, a failed login: every kind of per-user key there is.
    const { png } = await sampleImages(40, 40);
    const up = await fetch(srv.url + "/api/me/avatar", {
      method: "PUT",
      headers: { authorization: `Bearer ${leaver.accessToken}` },
      body: png as BodyInit,
    });
    equal(up.status, 200);
    await up.body?.cancel();
    equal(
      (await api(srv.url, "PUT", `/api/me/blocks/${carol.user.id}`, { token: leaver.accessToken }))
        .status,
      204,
    );
    equal(
      (await api(srv.url, "PUT", `/api/me/blocks/${leaver.user.id}`, { token: dave.accessToken }))
        .status,
      204,
    );
    await api(srv.url, "POST", "/api/auth/login", {
      body: { username: name, password: "nope-nope" },
    });
    ok((await keysNaming(srv.kv, leaver.user.id, name)).length > 0);
    const record = await srv.kv.get<UserRecord>(keys.user(leaver.user.id));
    const blobId = record.value!.avatar!.blobId;

    const wrong = await api(srv.url, "DELETE", "/api/me", {
      token: leaver.accessToken,
      body: { password: "not-my-password" },
    });
    equal(wrong.status, 403);
    equal(wrong.body.error.field, "password");

    const res = await api(srv.url, "DELETE", "/api/me", {
      token: leaver.accessToken,
      body: { password: "password123" },
    });
    equal(res.status, 204, JSON.stringify(res.body));
    equal((await ws.closed).code, 4001);
    equal((await api(srv.url, "GET", "/api/me", { token: leaver.accessToken })).status, 401);

    deepStrictEqual(await keysNaming(srv.kv, leaver.user.id, name), []);
    equal((await srv.kv.get(keys.blobManifest(blobId))).value, null, "the picture is gone");

    // The group lives on with a new owner; the messages stay, from an unknown (deleted) sender.
    const detail = await api(srv.url, "GET", `/api/conversations/${groupId}`, {
      token: bob.accessToken,
    });
    equal(detail.status, 200);
    deepStrictEqual(
      detail.body.members.map((m: { id: string }) => m.id).sort(),
      [bob.user.id, carol.user.id].sort(),
    );
    ok(detail.body.members.some((m: { role: string }) => m.role === "owner"));
    const history = await api(srv.url, "GET", `/api/conversations/${groupId}/messages`, {
      token: bob.accessToken,
    });
    ok(
      history.body.messages.some((m: { senderId: string; body: string }) =>
        m.senderId === leaver.user.id && m.body === "last words"
      ),
    );

    // The username is free for the next sign-up.
    const again = await register(srv.url, name, "another-pass1");
    ok(again.user.id !== leaver.user.id);
  });
});

Deno.test("the delete form refuses a wrong password beside its field and needs the site's own origin", async () => {
  await withServer(async (srv) => {
    const a = await register(srv.url);
    const wrong = await postForm(srv, "/settings/delete", { password: "wrong-wrong" }, {
      cookie: a.cookie,
    });
    equal(wrong.status, 400);
    ok(wrong.text.includes("That password is not right."));
    const forged = await postForm(srv, "/settings/delete", { password: "password123" }, {
      cookie: a.cookie,
      origin: "https://evil.example",
    });
    equal(forged.status, 403);
    const done = await postForm(srv, "/settings/delete", { password: "password123" }, {
      cookie: a.cookie,
    });
    equal(done.status, 303);
    equal(done.headers.get("location"), "/login?deleted=1");
    equal((await api(srv.url, "GET", "/api/me", { token: a.accessToken })).status, 401);
  });
});

Deno.test("GET /api/me/export streams JSON lines: the profile, each conversation, and only the caller's own messages", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const wa = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const wb = await WsClient.connect(srv.wsUrl, bob.accessToken);
    try {
      await wa.sendAcked(convId, "mine one");
      await wb.sendAcked(convId, "not mine");
      await wa.sendAcked(convId, "mine two");
    } finally {
      await wa.close();
      await wb.close();
    }
    const res = await fetch(srv.url + "/api/me/export", {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    equal(res.status, 200);
    equal(res.headers.get("content-type"), "application/x-ndjson; charset=utf-8");
    ok(res.headers.get("content-disposition")?.startsWith("attachment"));
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    equal(lines[0].type, "profile");
    equal(lines[0].user.id, alice.user.id);
    ok(!JSON.stringify(lines[0]).includes("passwordHash"));
    const convs = lines.filter((l) => l.type === "conversation");
    deepStrictEqual(convs.map((l) => l.conversation.id), [convId]);
    const bodies = lines.filter((l) => l.type === "message").map((l) => l.message.body);
    deepStrictEqual(bodies, ["mine one", "mine two"]);
    equal((await fetch(srv.url + "/api/me/export")).status, 401);
  });
});

Deno.test("a former member keeps their name on their messages; a deleted account's are shown as such", async () => {
  await withServer(async (srv) => {
    const [owner, leaver, doomed] = await Promise.all([
      register(srv.url),
      register(srv.url),
      register(srv.url, uniqueName("doomed"), "password123"),
    ]);
    const group = await api(srv.url, "POST", "/api/conversations", {
      token: owner.accessToken,
      body: { kind: "group", title: "Authors", memberIds: [leaver.user.id, doomed.user.id] },
    });
    const id = group.body.conversation.id;
    for (const who of [leaver, doomed]) {
      const sent = await api(srv.url, "POST", `/api/conversations/${id}/messages`, {
        token: who.accessToken,
        body: { id: crypto.randomUUID(), body: `from ${who.user.username}` },
      });
      equal(sent.status, 201);
    }
    await api(srv.url, "DELETE", `/api/conversations/${id}/members/${leaver.user.id}`, {
      token: leaver.accessToken,
    });
    await api(srv.url, "DELETE", "/api/me", {
      token: doomed.accessToken,
      body: { password: "password123" },
    });
    const former = await api(srv.url, "GET", `/api/users/${leaver.user.id}`, {
      token: owner.accessToken,
    });
    equal(former.status, 200);
    equal(former.body.user.displayName, leaver.user.displayName);
    equal(
      (await api(srv.url, "GET", `/api/users/${doomed.user.id}`, { token: owner.accessToken }))
        .status,
      404,
    );
    // The page, as rendered without JavaScript, names both authors.
    const page = await getPage(srv, `/chat/${id}`, owner.cookie);
    ok(page.text.includes(leaver.user.displayName));
    ok(page.text.includes("Deleted account"));
  });
});
