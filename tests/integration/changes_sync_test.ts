/**
 * One stream of messages and changes: a member who was offline through 50 mixed messages,
 * edits, deletes, reactions and replies syncs (page by page, by version) to exactly the state
 * of a member who stayed online and applied `message` and `update` frames; unread counts others'
 * new messages only; mentions name members only, and count as unread mentions.
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import type { Message } from "../../lib/protocol.ts";
import { type Account, api, register, startServer, WsClient } from "../helpers/server.ts";

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

/** A client's state: messages by seq, replaced only by a newer version. */
function apply(state: Map<number, Message>, m: Message): void {
  const held = state.get(m.seq);
  if (!held || held.version < m.version) state.set(m.seq, m);
}

/** The contract lets a client fill what it holds; compare what the server says of each. */
const comparable = (state: Map<number, Message>) =>
  [...state.values()].sort((a, b) => a.seq - b.seq).map((m) => ({
    ...m,
    // A reply's excerpt is taken from the original when served: copies served earlier may
    // quote an older body; the client fills it from the original it holds.
    replyTo: m.replyTo && { seq: m.replyTo.seq, senderId: m.replyTo.senderId },
  }));

Deno.test("a member offline through 50 mixed messages and changes syncs to the online member's state", async () => {
  const srv = await startServer();
  const sockets: WsClient[] = [];
  try {
    const [ann, bea, cid, outsider] = await Promise.all(
      [1, 2, 3, 4].map(() => register(srv.url)),
    );
    const g = await api(srv.url, "POST", "/api/conversations", {
      token: ann.accessToken,
      body: { kind: "group", title: "Crew", memberIds: [bea.user.id, cid.user.id] },
    });
    const convId = g.body.conversation.id as string;
    const base = `/api/conversations/${convId}/messages`;
    const online = await WsClient.connect(srv.wsUrl, bea.accessToken);
    sockets.push(online);
    const cidStart = g.body.conversation.lastSeq as number;

    const random = rng(11);
    const people: Account[] = [ann, bea];
    const mine = new Map<string, number[]>([[ann.user.id, []], [bea.user.id, []]]);
    const live: number[] = [];
    let sends = 0, mentionsOfCid = 0, lastSeq = 0;
    const emoji = ["👍", "🎉", "❤️"];
    for (let op = 0; op < 50; op++) {
      const who = people[Math.floor(random() * 2)];
      const r = random();
      const own = mine.get(who.user.id)!;
      let res;
      if (r < 0.4 || own.length === 0 || live.length === 0) {
        const mention = random() < 0.3;
        const body = mention
          ? `hey @${cid.user.username} and @${outsider.user.username} (${op})`
          : `message ${op}`;
        const replyTo = live.length && random() < 0.3
          ? live[Math.floor(random() * live.length)]
          : undefined;
        res = await api(srv.url, "POST", base, {
          token: who.accessToken,
          body: { id: `op-${op}`, body, ...(replyTo ? { replyTo } : {}) },
        });
        eq(res.status, 201, JSON.stringify(res.body));
        own.push(res.body.seq);
        live.push(res.body.seq);
        sends++;
        if (mention) mentionsOfCid++;
      } else if (r < 0.6) {
        const seq = own[Math.floor(random() * own.length)];
        const current = (await api(srv.url, "GET", `${base}?after=${seq - 1}&limit=1`, {
          token: who.accessToken,
        })).body.messages[0] as Message;
        // Edits keep any mention (dropping one would stop it counting; adding never counts).
        res = await api(srv.url, "PATCH", `${base}/${seq}`, {
          token: who.accessToken,
          body: { id: `op-${op}`, body: `${current.body} (edit ${op})` },
        });
        eq(res.status, 201, JSON.stringify(res.body));
      } else if (r < 0.9) {
        const seq = live[Math.floor(random() * live.length)];
        const on = random() < 0.7;
        res = await api(srv.url, "POST", `${base}/${seq}/reactions`, {
          token: who.accessToken,
          body: { id: `op-${op}`, emoji: emoji[Math.floor(random() * 3)], on },
        });
        ok([200, 201].includes(res.status), JSON.stringify(res.body));
      } else {
        const seq = own.splice(Math.floor(random() * own.length), 1)[0];
        live.splice(live.indexOf(seq), 1);
        res = await api(srv.url, "DELETE", `${base}/${seq}?id=op-${op}`, {
          token: who.accessToken,
        });
        eq(res.status, 201, JSON.stringify(res.body));
        eq([res.body.message.deleted, res.body.message.mentions], [true, []]);
      }
      lastSeq = Math.max(lastSeq, res.body.seq);
    }

    // The online member applied every frame; wait until they reached the stream's end.
    const state = new Map<number, Message>();
    const position = () =>
      Math.max(
        0,
        ...online.frames.filter((f) => f.type === "message").map((f) => f.message.seq),
        ...online.frames.filter((f) => f.type === "update").map((f) => f.seq),
      );
    for (let i = 0; position() < lastSeq && i < 500; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    eq(position(), lastSeq, "the online member got the whole stream live");
    for (const f of online.frames) {
      if (f.type === "message") apply(state, f.message);
      if (f.type === "update") {
        eq(f.message.version, f.seq, "an update's message carries the change's seq");
        apply(state, f.message);
      }
    }

    // The offline member syncs from where they were, page by page.
    const offline = await WsClient.connect(srv.wsUrl, cid.accessToken);
    sockets.push(offline);
    const synced = new Map<number, Message>();
    let after = cidStart, pages = 0;
    for (;;) {
      const reqId = `s${pages++}`;
      offline.send({ type: "sync", conversationId: convId, afterSeq: after, limit: 7, reqId });
      const page = await offline.next((f) => f.type === "messages" && f.reqId === reqId);
      const versions = page.messages.map((m: Message) => m.version);
      eq(versions, [...versions].sort((a, b) => a - b), "ascending by version");
      ok(versions.every((v: number) => v > after), "only versions past the position");
      for (const m of page.messages) apply(synced, m);
      if (page.messages.length) after = versions.at(-1);
      if (!page.hasMore) break;
    }
    ok(pages > 2, "the sync took several pages");
    eq(after, lastSeq, "the sync ends at the stream's end");
    eq(comparable(synced), comparable(state));

    // History shows the same current state.
    const history = await api(srv.url, "GET", `${base}?limit=100`, { token: cid.accessToken });
    const fromHistory = new Map<number, Message>(
      history.body.messages.filter((m: Message) => m.kind !== "system")
        .map((m: Message) => [m.seq, m]),
    );
    eq(comparable(fromHistory), comparable(state));

    // Unread: others' messages, never changes; mentions name members only.
    const list = await api(srv.url, "GET", "/api/conversations", { token: cid.accessToken });
    const view = list.body.conversations.find((c: { id: string }) => c.id === convId);
    eq(view.unread, sends, "each message counts once, no change counts");
    eq(view.lastSeq, lastSeq);
    const mentioning = [...state.values()].filter((m) => m.mentions.length);
    for (const m of mentioning) eq(m.mentions, [cid.user.id], "the outsider is no member");
    ok(mentionsOfCid >= mentioning.length && mentioning.length > 0);
    eq(view.unreadMentions, mentioning.length, "deleted messages mention nobody");
    const read = await api(srv.url, "POST", `/api/conversations/${convId}/read`, {
      token: cid.accessToken,
      body: { seq: lastSeq },
    });
    eq(read.status, 204);
    const after2 = await api(srv.url, "GET", `/api/conversations/${convId}`, {
      token: cid.accessToken,
    });
    eq([after2.body.conversation.unread, after2.body.conversation.unreadMentions], [0, 0]);
  } finally {
    for (const s of sockets) await s.close();
    await srv.close();
  }
});

Deno.test("unread ignores changes, and changes do not move lastActivityTs", async () => {
  const srv = await startServer();
  try {
    const [ann, bea] = await Promise.all([register(srv.url), register(srv.url)]);
    const d = await api(srv.url, "POST", "/api/conversations", {
      token: ann.accessToken,
      body: { kind: "direct", userId: bea.user.id },
    });
    const convId = d.body.conversation.id;
    const base = `/api/conversations/${convId}/messages`;
    const sent = await api(srv.url, "POST", base, {
      token: ann.accessToken,
      body: { id: "m1", body: "one" },
    });
    const view = async () =>
      (await api(srv.url, "GET", `/api/conversations/${convId}`, { token: bea.accessToken }))
        .body.conversation;
    const first = await view();
    eq(first.unread, 1);
    await new Promise((r) => setTimeout(r, 5));
    await api(srv.url, "PATCH", `${base}/1`, {
      token: ann.accessToken,
      body: { id: "e", body: "1" },
    });
    await api(srv.url, "POST", `${base}/1/reactions`, {
      token: ann.accessToken,
      body: { id: "r", emoji: "👍", on: true },
    });
    const second = await view();
    eq([second.unread, second.lastSeq], [1, 3], "two changes, still one unread message");
    eq(second.lastActivityTs, first.lastActivityTs, "changes move no activity time");
    eq(second.lastMessage.body, "1", "the preview shows the current state");
    eq(second.lastMessage.reactions, [{ emoji: "👍", count: 1, userIds: [ann.user.id] }]);
    eq(sent.body.seq, 1);
  } finally {
    await srv.close();
  }
});
