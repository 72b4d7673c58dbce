import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { CLOSE, type Conversation } from "../protocol.ts";
import { addMember, createDirect, createGroup, removeMember } from "../store/conversations.ts";
import { appendEvents } from "../store/events.ts";
import { commitMessages } from "../store/commit.ts";
import { withKv } from "../store/testing.ts";
import { Realtime } from "./engine.ts";
import { FakeConnection } from "./testing.ts";

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

/**
 * An engine over a real KV with the channel off (every path then goes through KV). `setUp`
 * writes what exists before the engine starts (it follows the event log from there on).
 */
async function withEngine<T>(
  setUp: (kv: Deno.Kv) => Promise<T>,
  fn: (kv: Deno.Kv, rt: Realtime, views: string[], given: T) => Promise<void>,
): Promise<void> {
  await withKv(async (kv) => {
    const given = await setUp(kv);
    const views: string[] = [];
    const viewer = (userId: string, convId: string) => {
      views.push(`${userId}:${convId}`);
      return Promise.resolve({ id: convId } as Conversation);
    };
    const rt = new Realtime(kv, loadConfig({ BROADCAST: "off" }), "iso", viewer);
    await rt.start();
    try {
      await fn(kv, rt, views, given);
    } finally {
      await rt.close();
    }
  });
}

const group = (kv: Deno.Kv) => createGroup(kv, "ann", "Team", ["bea"]);

const draft = (senderId: string, body: string) => ({
  id: crypto.randomUUID(),
  senderId,
  kind: "text" as const,
  body,
});

Deno.test("connect() subscribes a user to their conversations: messages reach every member but the sender's connection", async () => {
  await withEngine(group, async (kv, rt, _views, conv) => {
    const ann = new FakeConnection("a1", "ann");
    const bea = new FakeConnection("b1", "bea");
    await rt.connect(ann);
    await rt.connect(bea);
    const d = draft("ann", "hi");
    rt.expectOwn(conv.id, d.id, "a1");
    const { stored } = await commitMessages(kv, conv.id, [d]);
    rt.publishMessages(conv.id, stored);
    const bodies = (c: FakeConnection) =>
      c.parsed().filter((f) => f.type === "message").map((f) => f.message.body);
    eq(bodies(bea), ["hi"]);
    eq(bodies(ann), [], "the sending connection does not get its own message back");
  });
});

Deno.test("a user's first connection announces them online to a direct peer; the last one going, offline", async () => {
  await withEngine((kv) => createDirect(kv, "ann", "bea"), async (_kv, rt) => {
    const bea = new FakeConnection("b1", "bea");
    await rt.connect(bea);
    const ann = new FakeConnection("a1", "ann");
    await rt.connect(ann);
    const ann2 = new FakeConnection("a2", "ann");
    await rt.connect(ann2);
    await settle();
    const seen = () => bea.parsed().filter((f) => f.type === "presence").map((f) => f.online);
    eq(seen(), [true], "one announcement for two tabs");
    await rt.disconnect(ann);
    await settle();
    eq(seen(), [true], "a tab is still open");
    await rt.disconnect(ann2);
    await settle();
    eq(seen(), [true, false]);
    equal((await rt.presence.lookup(["ann"])).get("ann")?.online, false);
  });
});

Deno.test("a member removed is told so, gets no more messages, and the others get a conversation frame", async () => {
  await withEngine(group, async (kv, rt, views, conv) => {
    const ann = new FakeConnection("a1", "ann");
    const bea = new FakeConnection("b1", "bea");
    await rt.connect(ann);
    await rt.connect(bea);
    rt.publishEvents((await removeMember(kv, conv.id, "bea"))!);
    equal(rt.isSubscribed("bea", conv.id), false, "at once, before the caller answers");
    eq(bea.parsed().filter((f) => f.type === "removed"), [{
      type: "removed",
      conversationId: conv.id,
    }]);
    const { stored } = await commitMessages(kv, conv.id, [draft("ann", "after")]);
    rt.publishMessages(conv.id, stored);
    await settle();
    eq(bea.parsed().filter((f) => f.type === "message"), []);
    eq(views, [`ann:${conv.id}`], "the remaining member's view is sent again");
  });
});

Deno.test("a member added elsewhere starts getting the conversation's messages", async () => {
  await withEngine(group, async (kv, rt, _views, conv) => {
    const cid = new FakeConnection("c1", "cid");
    await rt.connect(cid);
    await addMember(kv, conv.id, "cid"); // another isolate: the log's watch brings it
    for (let i = 0; i < 100 && !rt.isSubscribed("cid", conv.id); i++) await settle(20);
    equal(rt.isSubscribed("cid", conv.id), true);
    const { stored } = await commitMessages(kv, conv.id, [draft("ann", "welcome")]);
    rt.publishMessages(conv.id, stored);
    eq(cid.parsed().filter((f) => f.type === "message").map((f) => f.message.body), ["welcome"]);
  });
});

Deno.test("a revoked session's connections are closed as revoked; other sessions stay", async () => {
  await withEngine(() => Promise.resolve(), async (kv, rt) => {
    const mine = new FakeConnection("a1", "ann", "sess-1");
    const other = new FakeConnection("a2", "ann", "sess-2");
    await rt.connect(mine);
    await rt.connect(other);
    rt.publishEvents(
      (await appendEvents(kv, [{ type: "revoke", sessionId: "sess-1", userId: "ann" }]))!,
    );
    for (let i = 0; i < 100 && mine.open; i++) await settle(20);
    equal(mine.closedWith, CLOSE.revoked);
    equal(other.open, true);
  });
});

Deno.test("typing reaches the other members, at most once a second per member", async () => {
  await withEngine(group, async (_kv, rt, _views, conv) => {
    const ann = new FakeConnection("a1", "ann");
    const bea = new FakeConnection("b1", "bea");
    await rt.connect(ann);
    await rt.connect(bea);
    rt.typing("ann", conv.id);
    rt.typing("ann", conv.id);
    rt.typing("zed", conv.id); // not a member: ignored
    eq(bea.parsed().filter((f) => f.type === "typing"), [
      { type: "typing", conversationId: conv.id, userId: "ann" },
    ]);
    eq(ann.parsed().filter((f) => f.type === "typing"), []);
  });
});

Deno.test("close() closes every connection with 1001", async () => {
  await withKv(async (kv) => {
    const rt = new Realtime(
      kv,
      loadConfig({ BROADCAST: "off" }),
      "iso",
      () => Promise.resolve(null),
    );
    await rt.start();
    const ann = new FakeConnection("a1", "ann");
    await rt.connect(ann);
    await rt.close();
    await rt.close();
    equal(ann.closedWith, CLOSE.goingAway);
  });
});
