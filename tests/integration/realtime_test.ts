import { deepStrictEqual as eq, ok } from "node:assert/strict";
import {
  type Account,
  api,
  register,
  startServer,
  type TestServer,
  WsClient,
} from "../helpers/server.ts";

async function group(srv: TestServer, owner: Account, others: Account[], title = "Team") {
  const res = await api(srv.url, "POST", "/api/conversations", {
    token: owner.accessToken,
    body: { kind: "group", title, memberIds: others.map((o) => o.user.id) },
  });
  eq(res.status, 201, JSON.stringify(res.body));
  return res.body.conversation.id as string;
}

async function users(srv: TestServer, n: number): Promise<Account[]> {
  return await Promise.all(Array.from({ length: n }, () => register(srv.url)));
}

Deno.test("a group of five gets every message on every member's connection, and the sender's second device too", async () => {
  const srv = await startServer();
  const clients: WsClient[] = [];
  try {
    const members = await users(srv, 5);
    const convId = await group(srv, members[0], members.slice(1));
    for (const m of members) clients.push(await WsClient.connect(srv.wsUrl, m.accessToken));
    const secondDevice = await WsClient.connect(srv.wsUrl, members[0].accessToken);
    clients.push(secondDevice);
    for (let i = 0; i < 5; i++) {
      const ack = await clients[i].sendMessage(convId, `hello from ${i}`);
      eq(ack.type, "ack");
      eq(ack.seq, i + 2, "after the group's creation (seq 1)");
    }
    // Everyone sees the other four members' messages; the sender's other device sees its own.
    for (let i = 0; i < 5; i++) {
      const got = await clients[i].waitCount((f) => f.type === "message", 4);
      eq(
        got.map((f) => f.message.body).sort(),
        [0, 1, 2, 3, 4].filter((j) => j !== i).map((j) => `hello from ${j}`),
      );
    }
    const second = await secondDevice.waitCount((f) => f.type === "message", 5);
    eq(second.map((f) => f.message.seq), [2, 3, 4, 5, 6]);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await srv.close();
  }
});

Deno.test("20 concurrent senders of 50 messages each get seq 2..1001 with no gap or duplicate, and every member sees the same order", async () => {
  const srv = await startServer();
  const clients: WsClient[] = [];
  try {
    const members = await users(srv, 20);
    const convId = await group(srv, members[0], members.slice(1));
    for (const m of members) clients.push(await WsClient.connect(srv.wsUrl, m.accessToken));
    const acks = await Promise.all(clients.map(async (c, i) => {
      const mine: number[] = [];
      for (let k = 0; k < 50; k++) {
        const id = crypto.randomUUID();
        for (;;) {
          const res = await c.sendMessage(convId, `m ${i}.${k}`, id);
          if (res.type === "ack") {
            mine.push(res.seq);
            break;
          }
          eq(res.error.code, "rate_limited", "the only refusal expected is the rate limit");
          await new Promise((r) => setTimeout(r, res.error.retryAfterMs));
        }
      }
      return mine;
    }));
    const all = acks.flat().sort((a, b) => a - b);
    // seq 1 is the group's creation (a system message).
    eq(all, Array.from({ length: 1000 }, (_, i) => i + 2));
    // Each member sees everyone else's messages (its own arrive as acks), in seq order.
    const views = await Promise.all(
      clients.map((c, i) =>
        c.waitCount((f) => f.type === "message", 1000 - acks[i].length, 20_000)
      ),
    );
    for (const [i, view] of views.entries()) {
      const seqs = view.map((f) => f.message.seq);
      eq(seqs, [...seqs].sort((a, b) => a - b), "delivered in seq order");
      const merged = [...seqs, ...acks[i]].sort((a, b) => a - b);
      eq(merged, all, `member ${i} holds every message exactly once`);
    }
    const history = await api(
      srv.url,
      "GET",
      `/api/conversations/${convId}/messages?after=951&limit=100`,
      {
        token: members[3].accessToken,
      },
    );
    eq(
      history.body.messages.map((m: { seq: number }) => m.seq),
      Array.from({ length: 50 }, (_, i) => 952 + i),
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await srv.close();
  }
});

Deno.test("resending an id over another connection or over HTTP returns the first ack and stores nothing new", async () => {
  const srv = await startServer();
  const clients: WsClient[] = [];
  try {
    const [alice, bob] = await users(srv, 2);
    const convId = await group(srv, alice, [bob]);
    const a1 = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const a2 = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const b = await WsClient.connect(srv.wsUrl, bob.accessToken);
    clients.push(a1, a2, b);
    const id = crypto.randomUUID();
    const first = await a1.sendMessage(convId, "once", id);
    const again = await a1.sendMessage(convId, "once, edited", id);
    const other = await a2.sendMessage(convId, "once", id);
    eq([again.seq, again.ts, other.seq, other.ts], [first.seq, first.ts, first.seq, first.ts]);
    const http = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
      token: alice.accessToken,
      body: { id, body: "once" },
    });
    eq(http.status, 200);
    eq(http.body, { id, seq: first.seq, ts: first.ts });
    const fresh = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
      token: alice.accessToken,
      body: { id: crypto.randomUUID(), body: "over http" },
    });
    eq(fresh.status, 201);
    eq(fresh.body.seq, 3, "after the creation (1) and the first message");
    const stolen = await b.sendMessage(convId, "mine now", id);
    eq(stolen.type, "error");
    eq(stolen.error.code, "conflict");
    const history = await api(srv.url, "GET", `/api/conversations/${convId}/messages`, {
      token: bob.accessToken,
    });
    eq(
      history.body.messages.filter((m: { kind: string }) => m.kind !== "system")
        .map((m: { body: string }) => m.body),
      ["once", "over http"],
    );
    await b.waitCount((f) => f.type === "message", 2);
    eq(b.messages().length, 2, "the receiver got each message once");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await srv.close();
  }
});

Deno.test("a member offline during 100 messages gets all of them in order by sync", async () => {
  const srv = await startServer();
  try {
    const [alice, bob] = await users(srv, 2);
    const convId = await group(srv, alice, [bob]);
    const a = await WsClient.connect(srv.wsUrl, alice.accessToken);
    for (let i = 1; i <= 100; i++) await a.sendAcked(convId, `msg ${i}`);
    const b = await WsClient.connect(srv.wsUrl, bob.accessToken);
    // From seq 1, the group's creation, which the conversation list already showed.
    b.send({ type: "sync", conversationId: convId, afterSeq: 1, reqId: "s1" });
    const page = await b.next((f) => f.type === "messages" && f.reqId === "s1");
    eq(page.hasMore, false);
    eq(
      page.messages.map((m: { body: string }) => m.body),
      Array.from({ length: 100 }, (_, i) => `msg ${i + 1}`),
    );
    b.send({ type: "sync", conversationId: convId, afterSeq: 41, limit: 10, reqId: "s2" });
    const part = await b.next((f) => f.type === "messages" && f.reqId === "s2");
    eq(part.messages.map((m: { seq: number }) => m.seq), [42, 43, 44, 45, 46, 47, 48, 49, 50, 51]);
    eq(part.hasMore, true);
    const list = await api(srv.url, "GET", "/api/conversations", { token: bob.accessToken });
    eq(list.body.conversations[0].unread, 100);
    eq(list.body.conversations[0].lastMessage.body, "msg 100");
    await a.close();
    await b.close();
  } finally {
    await srv.close();
  }
});

Deno.test("the 31st message of a burst is rate limited and not stored; a resend is not counted", async () => {
  const srv = await startServer();
  try {
    const [alice, bob] = await users(srv, 2);
    const convId = await group(srv, alice, [bob]);
    const a = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const ids = Array.from({ length: 31 }, () => crypto.randomUUID());
    ids.forEach((id, i) =>
      a.send({ type: "send", id, conversationId: convId, body: `burst ${i}` })
    );
    const answers = await Promise.all(
      ids.map((id) => a.next((f) => (f.type === "ack" || f.type === "error") && f.id === id)),
    );
    eq(answers.filter((f) => f.type === "ack").length, 30);
    const refused = answers[30];
    eq(refused.type, "error");
    eq(refused.error.code, "rate_limited");
    ok(refused.error.retryAfterMs > 0);
    const resend = await a.sendMessage(convId, "burst 0", ids[0]);
    eq(resend.type, "ack", "a resend is answered even while rate limited");
    const history = await api(srv.url, "GET", `/api/conversations/${convId}/messages?limit=100`, {
      token: bob.accessToken,
    });
    eq(history.body.messages.filter((m: { kind: string }) => m.kind !== "system").length, 30);
    ok(!history.body.messages.some((m: { id: string }) => m.id === ids[30]));
    const http = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
      token: alice.accessToken,
      body: { id: crypto.randomUUID(), body: "over http too" },
    });
    eq(http.status, 429);
    eq(http.body.error.code, "rate_limited");
    ok(http.body.error.retryAfterMs > 0);
    await a.close();
  } finally {
    await srv.close();
  }
});
