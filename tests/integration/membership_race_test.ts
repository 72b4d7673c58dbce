/**
 * Removal from a group takes effect at once, also when it races a connection being set up, and
 * presence does not stick on "online" when a socket goes while it is being set up. Two of these
 * need a KV operation to be slow at the right moment, which cannot be arranged for real: the
 * slowness is injected (named FAULT below), everything else is the real server, KV and sockets.
 */
import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { appendEvents } from "../../lib/store/events.ts";
import {
  api,
  directPair,
  register,
  startServer,
  type TestServer,
  WsClient,
} from "../helpers/server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function group(base: string, owner: { accessToken: string }, memberIds: string[]) {
  const res = await api(base, "POST", "/api/conversations", {
    token: owner.accessToken,
    body: { kind: "group", title: "Team", memberIds },
  });
  equal(res.status, 201, JSON.stringify(res.body));
  return res.body.conversation.id as string;
}

/** The owner removes a member; the removal has been answered 204. */
async function remove(base: string, owner: { accessToken: string }, convId: string, id: string) {
  const res = await api(base, "DELETE", `/api/conversations/${convId}/members/${id}`, {
    token: owner.accessToken,
  });
  equal(res.status, 204, JSON.stringify(res.body));
}

Deno.test("a removed member gets nothing more and can send nothing, from the moment DELETE answers", async () => {
  const srv = await startServer();
  const sockets: WsClient[] = [];
  try {
    const [owner, gone, stays] = await Promise.all([1, 2, 3].map(() => register(srv.url)));
    const convId = await group(srv.url, owner, [gone.user.id, stays.user.id]);
    const [co, cg, cs] = await Promise.all(
      [owner, gone, stays].map((a) => WsClient.connect(srv.wsUrl, a.accessToken)),
    );
    sockets.push(co, cg, cs);
    await co.sendMessage(convId, "before");
    await cg.next((f) => f.type === "message" && f.message.body === "before");

    await remove(srv.url, owner, convId, gone.user.id);
    // No waiting: the removal already holds on this server.
    const refused = await cg.sendMessage(convId, "still here?");
    eq([refused.type, refused.error?.code], ["error", "not_found"]);
    await co.sendMessage(convId, "after");
    await cs.next((f) => f.type === "message" && f.message.body === "after");
    cg.send({ type: "sync", conversationId: convId, afterSeq: 0, reqId: "s" });
    const sync = await cg.next((f) => f.reqId === "s");
    eq([sync.type, sync.error?.code], ["error", "not_found"]);
    await sleep(100);
    eq(
      cg.frames.filter((f) => f.type === "message").map((f) => f.message.body),
      ["before"],
      "nothing after the removal reached the removed member",
    );
    eq(cg.frames.filter((f) => f.type === "removed").length, 1);
    const history = await api(srv.url, "GET", `/api/conversations/${convId}/messages`, {
      token: owner.accessToken,
    });
    // Group changes are lines of the stream too (part F): the group's creation and the removal.
    const msgs: { kind: string; body: string; system?: { action: string } }[] =
      history.body.messages;
    eq(msgs.filter((m) => m.kind !== "system").map((m) => m.body), ["before", "after"]);
    eq(msgs.filter((m) => m.kind === "system").map((m) => m.system?.action), [
      "created",
      "removed",
    ]);
  } finally {
    for (const s of sockets) await s.close();
    await srv.close();
  }
});

/** Which read to slow down: a `list` or `getMany` whose first key starts with `prefix`. */
type SlowRead = { method: "list" | "getMany"; prefix: Deno.KvKeyPart[] };

/**
 * FAULT: a KV whose next read matching `slowOnce(read)` is done at once but answered 300 ms
 * later, as a slow KV would. Everything else goes straight to the real KV.
 */
function slowKv(real: Deno.Kv) {
  let armed: SlowRead | null = null;
  const take = (method: SlowRead["method"], key: Deno.KvKey | undefined) => {
    const hit = armed !== null && armed.method === method &&
      armed.prefix.every((part, i) => key?.[i] === part);
    if (hit) armed = null;
    return hit;
  };
  const kv = new Proxy(real, {
    get(target, prop) {
      if (prop === "list") {
        return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
          const iter = target.list(selector, options);
          const key = "prefix" in selector ? selector.prefix : selector.start;
          if (!take("list", key)) return iter;
          return (async function* () {
            const entries = [];
            for await (const e of iter) entries.push(e);
            await sleep(300);
            yield* entries;
          })();
        };
      }
      if (prop === "getMany") {
        return async (keys: Deno.KvKey[], options?: { consistency?: Deno.KvConsistencyLevel }) => {
          const entries = await target.getMany(keys, options);
          if (take("getMany", keys[0])) await sleep(300);
          return entries;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Deno.Kv;
  return { kv, slowOnce: (read: SlowRead) => void (armed = read) };
}

/** A server on a `slowKv`, with the sockets a test opens closed afterwards. */
async function withSlowServer(
  fn: (
    t: {
      srv: TestServer;
      real: Deno.Kv;
      slowOnce: (read: SlowRead) => void;
      sockets: WsClient[];
    },
  ) => Promise<void>,
) {
  const real = await Deno.openKv(":memory:");
  const { kv, slowOnce } = slowKv(real);
  const srv = await startServer({}, { kv });
  const sockets: WsClient[] = [];
  try {
    await fn({ srv, real, slowOnce, sockets });
  } finally {
    for (const s of sockets) await s.close();
    await srv.close();
    real.close();
  }
}

Deno.test("a removal that lands while the member's connection is being set up still holds", async () => {
  await withSlowServer(async ({ srv, slowOnce, sockets }) => {
    const [owner, gone] = await Promise.all([register(srv.url), register(srv.url)]);
    const convId = await group(srv.url, owner, [gone.user.id]);
    const co = await WsClient.connect(srv.wsUrl, owner.accessToken);
    sockets.push(co);
    slowOnce({ method: "list", prefix: ["memberships", gone.user.id] });
    const connecting = WsClient.connect(srv.wsUrl, gone.accessToken);
    await sleep(100); // the listing (still with the group in it) has been read
    await remove(srv.url, owner, convId, gone.user.id);
    const cg = await connecting;
    sockets.push(cg);
    await co.sendMessage(convId, "private, after the removal");
    const refused = await cg.sendMessage(convId, "let me post");
    eq([refused.type, refused.error?.code], ["error", "not_found"]);
    await sleep(100);
    eq(cg.frames.filter((f) => f.type === "message").length, 0);
  });
});

Deno.test("a socket that closes while being marked online leaves its user offline", async () => {
  const srv = await startServer();
  const sockets: WsClient[] = [];
  try {
    const { alice, bob } = await directPair(srv.url);
    const cb = await WsClient.connect(srv.wsUrl, bob.accessToken);
    sockets.push(cb);
    // FAULT: marking a user online takes 200 ms (a slow KV commit).
    const presence = srv.rt.realtime.presence;
    const markOnline = presence.markOnline.bind(presence);
    presence.markOnline = async (ids) => {
      await sleep(200);
      return await markOnline(ids);
    };
    const ws = new WebSocket(`${srv.wsUrl}?token=${encodeURIComponent(alice.accessToken)}`);
    const closed = new Promise((r) => ws.onclose = r);
    await new Promise((r) => ws.onopen = r);
    await sleep(50); // the server is inside markOnline now
    ws.close();
    await closed;
    await sleep(400);
    const state = (await presence.lookup([alice.user.id])).get(alice.user.id);
    equal(state?.online, false, "nobody is connected as Alice");
    const seen = cb.frames.filter((f) => f.type === "presence" && f.userId === alice.user.id);
    equal(seen.at(-1)?.online ?? false, false, "Bob is not left seeing Alice online");
  } finally {
    for (const s of sockets) await s.close();
    await srv.close();
  }
});

Deno.test("a first socket that closes while being set up, with a second one open, leaves the user online", async () => {
  await withSlowServer(async ({ srv, slowOnce, sockets }) => {
    const { alice, bob } = await directPair(srv.url);
    const cb = await WsClient.connect(srv.wsUrl, bob.accessToken);
    sockets.push(cb);
    // Alice's first tab is slow to set up and closes; her second tab opens meanwhile.
    slowOnce({ method: "list", prefix: ["memberships", alice.user.id] });
    const first = new WebSocket(`${srv.wsUrl}?token=${encodeURIComponent(alice.accessToken)}`);
    const firstClosed = new Promise((r) => first.onclose = r);
    await new Promise((r) => first.onopen = r);
    const second = await WsClient.connect(srv.wsUrl, alice.accessToken);
    sockets.push(second);
    first.close();
    await firstClosed;
    await sleep(500);
    const state = (await srv.rt.realtime.presence.lookup([alice.user.id])).get(alice.user.id);
    equal(state?.online, true, "Alice still has a tab open");
    const seen = cb.frames.filter((f) => f.type === "presence" && f.userId === alice.user.id);
    equal(seen.at(-1)?.online, true, "Bob sees Alice online");
  });
});

Deno.test("a removal holds at once even while this server is still catching up on other events", async () => {
  await withSlowServer(async ({ srv, slowOnce, sockets, real }) => {
    // FAULT (slowKv): the server's next read of the event log is slow, so its event sequencer
    // is busy catching up when the removal is made.
    const [owner, gone] = await Promise.all([register(srv.url), register(srv.url)]);
    const convId = await group(srv.url, owner, [gone.user.id]);
    const [co, cg] = await Promise.all(
      [owner, gone].map((a) => WsClient.connect(srv.wsUrl, a.accessToken)),
    );
    sockets.push(co, cg);
    slowOnce({ method: "list", prefix: ["events"] });
    // An event from another server whose channel message never came: found by the log's
    // watch, and read (slowly) from the log.
    await appendEvents(real, [{ type: "conversation_changed", conversationId: "elsewhere" }]);
    await sleep(20);
    await remove(srv.url, owner, convId, gone.user.id);
    await co.sendMessage(convId, "secret after removal");
    cg.send({ type: "sync", conversationId: convId, afterSeq: 0, reqId: "s" });
    const sync = await cg.next((f) => f.reqId === "s");
    eq([sync.type, sync.error?.code], ["error", "not_found"]);
    await cg.next((f) => f.type === "removed");
    await sleep(400);
    eq(cg.frames.filter((f) => f.type === "message").length, 0);
  });
});

Deno.test("an online announcement still being prepared when its socket goes does not outlast the offline one", async () => {
  await withSlowServer(async ({ srv, slowOnce, sockets }) => {
    // FAULT (slowKv): the next read of conversation records is slow: it is the one that picks
    // the conversations to announce Alice's arrival through.
    const [alice, bob, carol] = await Promise.all([1, 2, 3].map(() => register(srv.url)));
    const convId = await group(srv.url, bob, [alice.user.id]);
    const cb = await WsClient.connect(srv.wsUrl, bob.accessToken);
    sockets.push(cb);
    // A member joins: what the server knew of the group is stale, so it is read again below.
    const add = await api(srv.url, "POST", `/api/conversations/${convId}/members`, {
      token: bob.accessToken,
      body: { userId: carol.user.id },
    });
    equal(add.status, 204);
    await sleep(100);
    slowOnce({ method: "getMany", prefix: ["conversations"] });
    const ws = new WebSocket(`${srv.wsUrl}?token=${encodeURIComponent(alice.accessToken)}`);
    const closed = new Promise((r) => ws.onclose = r);
    await new Promise((r) => ws.onopen = r);
    await sleep(60); // the server is reading which conversations to announce Alice through
    ws.close();
    await closed;
    await sleep(600);
    const state = (await srv.rt.realtime.presence.lookup([alice.user.id])).get(alice.user.id);
    equal(state?.online, false);
    const seen = cb.frames.filter((f) => f.type === "presence" && f.userId === alice.user.id);
    equal(seen.at(-1)?.online ?? false, false, "Bob is not left seeing Alice online");
  });
});
