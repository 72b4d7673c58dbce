/**
 * The chat page without JavaScript: the message box is a form that posts to
 * `/chat/:id/messages`, and "Load earlier messages" is a link to the page before.
 */
import { equal, match, ok } from "node:assert/strict";
import {
  api,
  directPair,
  getPage,
  postForm,
  type TestServer,
  withServer,
  WsClient,
} from "../helpers/server.ts";

/** The form's fresh message id from a rendered conversation page. */
function sendIdOf(html: string): string {
  const m = html.match(/<input type="hidden" name="id" value="([^"]+)"/);
  ok(m, "the page carries the form's message id");
  return m[1];
}

async function history(srv: TestServer, token: string, convId: string, query = "") {
  const res = await api(srv.url, "GET", `/api/conversations/${convId}/messages${query}`, { token });
  equal(res.status, 200, JSON.stringify(res.body));
  return res.body.messages as { seq: number; body: string; senderId: string }[];
}

Deno.test("without script, the message box posts the message, redirects back, and the peer gets it live", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const bobWs = await WsClient.connect(srv.wsUrl, bob.accessToken);
    try {
      const pageRes = await getPage(srv, `/chat/${convId}`, alice.cookie);
      equal(pageRes.status, 200);
      match(pageRes.text, new RegExp(`<form method="post" action="/chat/${convId}/messages"`));
      match(pageRes.text, /<textarea[^>]*name="body"/);
      const button = pageRes.text.match(/<button[^>]*data-testid="send"[^>]*>/)?.[0] ?? "";
      ok(button, "the page has a Send button");
      ok(
        !/\sdisabled[\s>=]/.test(button.replace(/class="[^"]*"/, "")),
        "the Send button works before any script runs",
      );
      const sendId = sendIdOf(pageRes.text);

      const res = await postForm(srv, `/chat/${convId}/messages`, {
        id: sendId,
        body: "Hello from a plain form\r\nsecond line",
      }, { cookie: alice.cookie });
      equal(res.status, 303);
      equal(res.headers.get("location"), `/chat/${convId}`);

      const stored = await history(srv, alice.accessToken, convId);
      equal(stored.length, 1);
      equal(stored[0].body, "Hello from a plain form\nsecond line", "line breaks are stored as LF");
      equal(stored[0].senderId, alice.user.id);
      const live = await bobWs.next((f) => f.type === "message");
      equal(live.message.body, "Hello from a plain form\nsecond line");

      // Posting the same form again (back button, double click) stores nothing new.
      const again = await postForm(srv, `/chat/${convId}/messages`, {
        id: sendId,
        body: "Hello from a plain form\r\nsecond line",
      }, { cookie: alice.cookie });
      equal(again.status, 303);
      equal((await history(srv, alice.accessToken, convId)).length, 1);

      // The page after the redirect shows it, with a new id for the next message.
      const after = await getPage(srv, `/chat/${convId}`, alice.cookie);
      match(after.text, /Hello from a plain form/);
      ok(sendIdOf(after.text) !== sendId, "each page gets a fresh id");
    } finally {
      await bobWs.close();
    }
  });
});

Deno.test("a refused form send answers the page with the reason and keeps the text", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const sendId = sendIdOf((await getPage(srv, `/chat/${convId}`, alice.cookie)).text);
    const tooLong = "y".repeat(4001);
    const res = await postForm(srv, `/chat/${convId}/messages`, { id: sendId, body: tooLong }, {
      cookie: alice.cookie,
    });
    equal(res.status, 400);
    match(res.text, /That message was not sent: Body must be at most 4,000 characters/);
    ok(res.text.includes(`>${tooLong}</textarea>`), "the text is still in the box");
    equal((await history(srv, alice.accessToken, convId)).length, 0);

    const blank = await postForm(srv, `/chat/${convId}/messages`, { id: sendId, body: "  \r\n " }, {
      cookie: alice.cookie,
    });
    equal(blank.status, 400);
    match(blank.text, /Body must not be empty/);
  });
});

Deno.test("the form post refuses strangers, foreign origins and signed-out browsers", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const { alice: eve } = await directPair(srv.url);
    const fields = { id: crypto.randomUUID(), body: "let me in" };

    const stranger = await postForm(srv, `/chat/${convId}/messages`, fields, {
      cookie: eve.cookie,
    });
    equal(stranger.status, 404);
    match(stranger.text, /Conversation not found/);

    const foreign = await postForm(srv, `/chat/${convId}/messages`, fields, {
      cookie: alice.cookie,
      origin: "https://evil.example",
    });
    equal(foreign.status, 403);

    const signedOut = await postForm(srv, `/chat/${convId}/messages`, fields);
    equal(signedOut.status, 303);
    equal(signedOut.headers.get("location"), "/login");

    equal((await history(srv, alice.accessToken, convId)).length, 0);
  });
});

Deno.test("without script, 'Load earlier messages' is a link to the page before", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    // 60 messages, alternating senders (each stays within the send burst).
    for (let i = 1; i <= 60; i++) {
      const who = i % 2 ? alice : bob;
      const res = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
        token: who.accessToken,
        body: { id: crypto.randomUUID(), body: `note #${String(i).padStart(2, "0")}` },
      });
      equal(res.status, 201, JSON.stringify(res.body));
    }
    const latest = await getPage(srv, `/chat/${convId}`, alice.cookie);
    match(latest.text, /note #60/);
    match(latest.text, /note #11/);
    ok(!latest.text.includes("note #10"), "the first page holds the latest 50");
    match(latest.text, new RegExp(`href="/chat/${convId}\\?before=11"[^>]*>Load earlier messages`));

    const earlier = await getPage(srv, `/chat/${convId}?before=11`, alice.cookie);
    equal(earlier.status, 200);
    match(earlier.text, /note #01/);
    match(earlier.text, /note #10/);
    ok(!earlier.text.includes("note #11"), "only what came before");
    ok(!earlier.text.includes("Load earlier messages"), "nothing before the first message");
  });
});
