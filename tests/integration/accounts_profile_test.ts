/**
 * Profile and avatar (`PATCH /api/me`, `PUT`/`DELETE /api/me/avatar`, `GET
 * /api/users/:id/avatar`), end to end: a real server, real KV, real image bytes, real sockets
 * for the live `user` frame.
 */
import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { decode } from "imagescript";
import { sampleImages } from "../../lib/attachments/testing.ts";
import {
  api,
  directPair,
  getPage,
  postForm,
  register,
  withServer,
  WsClient,
} from "../helpers/server.ts";

async function putAvatar(
  base: string,
  token: string,
  bytes: Uint8Array,
  headers: Record<string, string> = {},
) {
  const res = await fetch(base + "/api/me/avatar", {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, ...headers },
    body: bytes as BodyInit,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

Deno.test("PATCH /api/me renames; the peer's socket gets a live user frame; search finds the new name", async () => {
  await withServer(async (srv) => {
    const { alice, bob } = await directPair(srv.url);
    const ws = await WsClient.connect(srv.wsUrl, bob.accessToken);
    try {
      const res = await api(srv.url, "PATCH", "/api/me", {
        token: alice.accessToken,
        body: { displayName: "  Alice Zephyrine " },
      });
      equal(res.status, 200, JSON.stringify(res.body));
      equal(res.body.user.displayName, "Alice Zephyrine");
      equal(res.body.user.avatarUrl, null);
      const frame = await ws.next((f) => f.type === "user" && f.user.id === alice.user.id);
      equal(frame.user.displayName, "Alice Zephyrine");
      const me = await api(srv.url, "GET", "/api/me", { token: alice.accessToken });
      equal(me.body.user.displayName, "Alice Zephyrine");
      const found = await api(srv.url, "GET", "/api/users?q=zephyr", { token: bob.accessToken });
      deepStrictEqual(found.body.users.map((u: { id: string }) => u.id), [alice.user.id]);
    } finally {
      await ws.close();
    }
  });
});

Deno.test("PATCH /api/me refuses a blank or overlong name (400 with field) and needs sign-in", async () => {
  await withServer(async (srv) => {
    const a = await register(srv.url);
    for (const displayName of ["   ", "x".repeat(65), 42]) {
      const res = await api(srv.url, "PATCH", "/api/me", {
        token: a.accessToken,
        body: { displayName },
      });
      equal(res.status, 400, JSON.stringify(res.body));
      equal(res.body.error.code, "invalid_input");
      equal(res.body.error.field, "displayName");
    }
    const anon = await api(srv.url, "PATCH", "/api/me", { body: { displayName: "X" } });
    equal(anon.status, 401);
  });
});

Deno.test("PUT /api/me/avatar stores a downscaled picture any signed-in user can load, cached for good; DELETE removes it", async () => {
  await withServer(async (srv) => {
    const { alice, bob } = await directPair(srv.url);
    const ws = await WsClient.connect(srv.wsUrl, bob.accessToken);
    try {
      const { png } = await sampleImages(600, 600);
      const res = await putAvatar(srv.url, alice.accessToken, png);
      equal(res.status, 200, JSON.stringify(res.body));
      const url: string = res.body.user.avatarUrl;
      match(url, new RegExp(`^/api/users/${alice.user.id}/avatar\\?v=[0-9a-f]{16}$`));
      const live = await ws.next((f) => f.type === "user" && f.user.avatarUrl === url);
      equal(live.user.id, alice.user.id);

      const img = await fetch(srv.url + url, {
        headers: { authorization: `Bearer ${bob.accessToken}` },
      });
      equal(img.status, 200);
      equal(img.headers.get("cache-control"), "private, max-age=31536000, immutable");
      equal(img.headers.get("x-content-type-options"), "nosniff");
      const bytes = new Uint8Array(await img.arrayBuffer());
      const decoded = await decode(bytes);
      equal((decoded as { width: number }).width, 256, "stored downscaled to 256 px");

      const anon = await fetch(srv.url + url);
      equal(anon.status, 401);
      await anon.body?.cancel();

      // The conversation list and members show it too.
      const list = await api(srv.url, "GET", "/api/conversations", { token: bob.accessToken });
      equal(list.body.conversations[0].peer.avatarUrl, url);

      const del = await api(srv.url, "DELETE", "/api/me/avatar", { token: alice.accessToken });
      equal(del.status, 200);
      equal(del.body.user.avatarUrl, null);
      const gone = await fetch(srv.url + url, {
        headers: { authorization: `Bearer ${bob.accessToken}` },
      });
      equal(gone.status, 404);
      await gone.body?.cancel();
    } finally {
      await ws.close();
    }
  });
});

Deno.test("PUT /api/me/avatar refuses what is not a PNG, JPEG or WebP (400) and more than 2 MiB (413)", async () => {
  await withServer(async (srv) => {
    const a = await register(srv.url);
    const { gif } = await sampleImages(20, 20);
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>');
    // PNG's signature on bytes that are no PNG.
    const fake = new Uint8Array(64);
    fake.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    for (const bytes of [svg, gif, fake, new Uint8Array(0)]) {
      const res = await putAvatar(srv.url, a.accessToken, bytes);
      equal(res.status, 400, JSON.stringify(res.body));
      equal(res.body.error.code, "invalid_input");
      equal(res.body.error.field, "avatar");
    }
    const big = new Uint8Array(2 * 1024 * 1024 + 1);
    const res = await putAvatar(srv.url, a.accessToken, big);
    equal(res.status, 413);
    equal(res.body.error.code, "too_large");
    // Streamed without a length: refused all the same, once past the limit.
    const streamed = await fetch(srv.url + "/api/me/avatar", {
      method: "PUT",
      headers: { authorization: `Bearer ${a.accessToken}` },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 40; i++) c.enqueue(new Uint8Array(64 * 1024));
          c.close();
        },
      }),
    });
    equal(streamed.status, 413);
    await streamed.body?.cancel();
    const me = await api(srv.url, "GET", "/api/me", { token: a.accessToken });
    equal(me.body.user.avatarUrl, null, "nothing was kept");
  });
});

Deno.test("the settings page's forms rename and upload a picture without JavaScript, and refuse a cross-site post", async () => {
  await withServer(async (srv) => {
    const a = await register(srv.url);
    const page = await getPage(srv, "/settings", a.cookie);
    equal(page.status, 200);
    match(page.text, /action="\/settings\/profile"/);

    const renamed = await postForm(srv, "/settings/profile", { displayName: "Formal Name" }, {
      cookie: a.cookie,
    });
    equal(renamed.status, 303);
    equal(renamed.headers.get("location"), "/settings?done=profile");
    const me = await api(srv.url, "GET", "/api/me", { token: a.accessToken });
    equal(me.body.user.displayName, "Formal Name");

    const forged = await postForm(srv, "/settings/profile", { displayName: "Evil" }, {
      cookie: a.cookie,
      origin: "https://evil.example",
    });
    equal(forged.status, 403);
    const still = await api(srv.url, "GET", "/api/me", { token: a.accessToken });
    equal(still.body.user.displayName, "Formal Name");

    const { jpeg } = await sampleImages(100, 80);
    const form = new FormData();
    form.append("avatar", new File([jpeg as BlobPart], "me.jpg", { type: "image/jpeg" }));
    const up = await fetch(srv.url + "/settings/avatar", {
      method: "POST",
      headers: { cookie: a.cookie, origin: srv.url },
      body: form,
      redirect: "manual",
    });
    equal(up.status, 303);
    await up.body?.cancel();
    const after = await api(srv.url, "GET", "/api/me", { token: a.accessToken });
    notEqual(after.body.user.avatarUrl, null);
    const shown = await getPage(srv, "/settings", a.cookie);
    ok(shown.text.includes(after.body.user.avatarUrl.replace("&", "&amp;")));
  });
});
