/**
 * Message changes over HTTP and the socket: who may edit, delete and react (403 for the wrong
 * people, 404 for non-members and for what is no message), idempotent retries, no-op changes,
 * the shared id namespace, and live `update` frames to every connection but the acting one.
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { type Account, api, register, startServer, WsClient } from "../helpers/server.ts";

async function group(url: string, owner: Account, members: Account[]) {
  const g = await api(url, "POST", "/api/conversations", {
    token: owner.accessToken,
    body: { kind: "group", title: "Crew", memberIds: members.map((m) => m.user.id) },
  });
  return g.body.conversation.id as string;
}

function caller(url: string, convId: string) {
  return {
    send: (who: Account, body: string, id: string = crypto.randomUUID(), extra = {}) =>
      api(url, "POST", `/api/conversations/${convId}/messages`, {
        token: who.accessToken,
        body: { id, body, ...extra },
      }),
    edit: (who: Account, seq: number, body: string, id: string = crypto.randomUUID()) =>
      api(url, "PATCH", `/api/conversations/${convId}/messages/${seq}`, {
        token: who.accessToken,
        body: { id, body },
      }),
    del: (who: Account, seq: number, id: string = crypto.randomUUID()) =>
      api(url, "DELETE", `/api/conversations/${convId}/messages/${seq}?id=${id}`, {
        token: who.accessToken,
      }),
    react: (
      who: Account,
      seq: number,
      emoji: string,
      on: boolean,
      id: string = crypto.randomUUID(),
    ) =>
      api(url, "POST", `/api/conversations/${convId}/messages/${seq}/reactions`, {
        token: who.accessToken,
        body: { id, emoji, on },
      }),
    reactions: (who: Account, seq: number) =>
      api(url, "GET", `/api/conversations/${convId}/messages/${seq}/reactions`, {
        token: who.accessToken,
      }),
  };
}

Deno.test("edit, delete and react: the right people succeed, others get 403, non-members 404", async () => {
  const srv = await startServer();
  try {
    const [owner, admin, bea, cid, outsider] = await Promise.all(
      [1, 2, 3, 4, 5].map(() => register(srv.url)),
    );
    const convId = await group(srv.url, owner, [admin, bea, cid]);
    await api(srv.url, "PATCH", `/api/conversations/${convId}/members/${admin.user.id}`, {
      token: owner.accessToken,
      body: { role: "admin" },
    });
    const c = caller(srv.url, convId);
    const sent = await c.send(bea, "helo wrold");
    eq(sent.status, 201);
    const seq = sent.body.seq as number;

    // Edit: the sender only.
    eq((await c.edit(cid, seq, "mine now")).status, 403);
    eq((await c.edit(owner, seq, "owners cannot edit either")).status, 403);
    eq((await c.edit(outsider, seq, "x")).status, 404);
    eq((await c.edit(bea, seq, "   ")).body.error.field, "body", "a text stays non-blank");
    const edit = await c.edit(bea, seq, "hello world", "edit-1");
    eq(edit.status, 201);
    eq(edit.body.id, "edit-1");
    eq(edit.body.conversationId, convId);
    ok(edit.body.seq > seq, "the edit takes the stream's next seq");
    eq(edit.body.message.seq, seq);
    eq(edit.body.message.version, edit.body.seq);
    eq(edit.body.message.body, "hello world");
    ok(edit.body.message.editedTs >= edit.body.message.ts);
    const retry = await c.edit(bea, seq, "hello world", "edit-1");
    eq([retry.status, retry.body.seq], [200, edit.body.seq], "a retry is stored once");
    const same = await c.edit(bea, seq, "hello world");
    eq([same.status, same.body.seq], [200, edit.body.seq], "no change: the current version");
    eq((await c.del(bea, seq, "edit-1")).status, 409, "an id used for an edit is not a delete");
    eq((await c.send(bea, "again", "edit-1")).status, 409, "nor a message");

    // Not messages: the group's creation (a system message) and a seq past the head.
    eq((await c.edit(owner, 1, "x")).status, 404);
    eq((await c.react(bea, 1, "👍", true)).status, 404);
    eq((await c.edit(bea, 9999, "x")).status, 404);
    eq((await c.del(bea, 9999)).status, 404);
    const noId = await api(srv.url, "DELETE", `/api/conversations/${convId}/messages/${seq}`, {
      token: bea.accessToken,
    });
    eq([noId.status, noId.body.error.field], [400, "id"], "a delete names its id");
    eq((await c.edit(bea, Number.NaN, "x")).status, 404);

    // Reactions: any member; one per user and emoji; a non-member 404.
    eq((await c.react(outsider, seq, "👍", true)).status, 404);
    const r1 = await c.react(cid, seq, "👍", true, "r1");
    eq(r1.status, 201);
    eq(r1.body.message.reactions, [{ emoji: "👍", count: 1, userIds: [cid.user.id] }]);
    eq((await c.react(cid, seq, "👍", true, "r1")).status, 200, "a retried reaction");
    const twice = await c.react(cid, seq, "👍", true);
    eq([twice.status, twice.body.seq], [200, r1.body.seq], "already on: nothing changes");
    eq((await c.react(cid, seq, "not an emoji", true)).body.error.field, "emoji");
    eq((await c.react(cid, seq, "👍👍", true)).body.error.field, "emoji", "one emoji only");
    eq((await c.react(admin, seq, "👨‍👩‍👧", true)).status, 201, "a joined emoji is one");
    eq((await c.reactions(bea, seq)).body.reactions.map((r: { emoji: string }) => r.emoji), [
      "👍",
      "👨‍👩‍👧",
    ]);
    eq((await c.reactions(outsider, seq)).status, 404);

    // Delete: the sender, or a group's owner or admin; a plain member gets 403.
    const other = (await c.send(cid, "by cid")).body.seq as number;
    eq((await c.del(bea, other)).status, 403);
    eq((await c.del(outsider, other)).status, 404);
    const del = await c.del(admin, other, "del-1");
    eq(del.status, 201);
    eq(del.body.message.deleted, true);
    eq(del.body.message.body, "");
    eq((await c.del(admin, other, "del-1")).status, 200, "a retried delete");
    eq((await c.del(cid, other)).status, 404, "a deleted message is gone");
    eq((await c.edit(cid, other, "back")).status, 404);
    eq((await c.react(bea, other, "👍", true)).status, 404);
    eq((await c.del(bea, seq)).status, 201, "the sender deletes their own");
    const page = await api(srv.url, "GET", `/api/conversations/${convId}/messages`, {
      token: cid.accessToken,
    });
    const gone = page.body.messages.find((m: { seq: number }) => m.seq === seq);
    eq([gone.deleted, gone.body, gone.reactions, gone.mentions], [true, "", [], []]);
  } finally {
    await srv.close();
  }
});

Deno.test("in a direct chat only the sender may delete; the peer gets 403", async () => {
  const srv = await startServer();
  try {
    const [ann, bob] = await Promise.all([register(srv.url), register(srv.url)]);
    const d = await api(srv.url, "POST", "/api/conversations", {
      token: ann.accessToken,
      body: { kind: "direct", userId: bob.user.id },
    });
    const c = caller(srv.url, d.body.conversation.id);
    const seq = (await c.send(ann, "hi")).body.seq as number;
    eq(seq, 1, "a direct chat records no group changes");
    eq((await c.del(bob, seq)).status, 403);
    eq((await c.del(ann, seq)).status, 201);
  } finally {
    await srv.close();
  }
});

Deno.test("over the socket a change is acked with the message and every other connection gets an update", async () => {
  const srv = await startServer();
  const sockets: WsClient[] = [];
  try {
    const [ann, bea] = await Promise.all([register(srv.url), register(srv.url)]);
    const convId = await group(srv.url, ann, [bea]);
    const annA = await WsClient.connect(srv.wsUrl, ann.accessToken);
    const annB = await WsClient.connect(srv.wsUrl, ann.accessToken);
    const beaWs = await WsClient.connect(srv.wsUrl, bea.accessToken);
    sockets.push(annA, annB, beaWs);
    const sent = await annA.sendAcked(convId, "typo");
    await beaWs.next((f) => f.type === "message" && f.message.seq === sent.seq);

    const from = annA.frames.length;
    annA.send({ type: "edit", id: "e1", conversationId: convId, seq: sent.seq, body: "fixed" });
    const ack = await annA.next((f) => f.type === "ack" && f.id === "e1", 5000, from);
    eq(ack.message.body, "fixed");
    eq(ack.message.version, ack.seq);
    for (const ws of [annB, beaWs]) {
      const up = await ws.next((f) => f.type === "update" && f.seq === ack.seq);
      eq([up.conversationId, up.message.seq, up.message.body], [convId, sent.seq, "fixed"]);
    }
    // A retry over the socket: the first ack again, nothing new for the others.
    annA.send({ type: "edit", id: "e1", conversationId: convId, seq: sent.seq, body: "fixed" });
    const again = await annA.next((f) => f.type === "ack" && f.id === "e1", 5000, from + 1);
    eq(again.seq, ack.seq);

    beaWs.send({
      type: "react",
      id: "r1",
      conversationId: convId,
      seq: sent.seq,
      emoji: "🎉",
      on: true,
    });
    const rAck = await beaWs.next((f) => f.type === "ack" && f.id === "r1");
    eq(rAck.seq, ack.seq + 1, "changes share the one stream");
    await annA.next((f) => f.type === "update" && f.seq === rAck.seq);
    beaWs.send({ type: "delete", id: "d1", conversationId: convId, seq: sent.seq });
    const refused = await beaWs.next((f) => f.type === "error" && f.id === "d1");
    eq(refused.error.code, "forbidden");

    // Wait for a frame after the updates, then check the acting socket got none of its own.
    await annA.sendAcked(convId, "marker");
    await beaWs.next((f) => f.type === "message" && f.message.body === "marker");
    eq(annA.frames.filter((f) => f.type === "update").map((f) => f.seq), [rAck.seq]);
    eq(beaWs.frames.filter((f) => f.type === "update").map((f) => f.seq), [ack.seq]);
  } finally {
    for (const s of sockets) await s.close();
    await srv.close();
  }
});

Deno.test("changes share a rate limit: a burst past 30 is refused with retryAfterMs; a stored change's retry is answered", async () => {
  const srv = await startServer();
  try {
    const [ann, bob] = await Promise.all([register(srv.url), register(srv.url)]);
    const convId = await group(srv.url, ann, [bob]);
    const ws = await WsClient.connect(srv.wsUrl, ann.accessToken);
    try {
      const sent = await ws.sendMessage(convId, "v0");
      const ids = Array.from({ length: 100 }, () => crypto.randomUUID());
      ids.forEach((id, i) =>
        ws.send({ type: "edit", id, conversationId: convId, seq: sent.seq, body: `v${i + 1}` })
      );
      const answers = new Map<
        string,
        { type: string; error?: { code: string; retryAfterMs?: number } }
      >();
      for (const id of ids) {
        answers.set(
          id,
          await ws.next((f) => f.id === id && (f.type === "ack" || f.type === "error"), 30_000),
        );
      }
      const acked = ids.filter((id) => answers.get(id)!.type === "ack");
      const refused = ids.filter((id) => answers.get(id)!.type === "error");
      ok(acked.length >= 30, `the burst of 30 goes through (${acked.length} acked)`);
      ok(refused.length > 0, "a hundred edits at once are not all taken");
      for (const id of refused) {
        const e = answers.get(id)!.error!;
        eq(e.code, "rate_limited");
        ok((e.retryAfterMs ?? 0) > 0, "the refusal says when to retry");
      }
      // Each acked edit took a seq of its own; the refused ones took none.
      const history = await api(srv.url, "GET", `/api/conversations/${convId}/messages`, {
        token: bob.accessToken,
      });
      const msg = history.body.messages.find((m: { seq: number }) => m.seq === sent.seq);
      eq(msg.version, sent.seq + acked.length);
      // A retry of a stored edit is answered with its first ack, even while limited.
      const last = acked[acked.length - 1];
      ws.send({ type: "edit", id: last, conversationId: convId, seq: sent.seq, body: "again" });
      const retry = await ws.next(
        (f) => f.id === last && f.type !== "update",
        5_000,
        ws.frames.length,
      );
      eq(retry.type, "ack");
    } finally {
      await ws.close();
    }
  } finally {
    await srv.close();
  }
});
