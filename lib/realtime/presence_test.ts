import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { createDirect, createGroup } from "../store/conversations.ts";
import { withKv } from "../store/testing.ts";
import type { PresenceNote } from "./broker.ts";
import { Hub } from "./hub.ts";
import { Presence, PRESENCE_GROUP_MAX } from "./presence.ts";
import { FakeConnection } from "./testing.ts";

/** A presence over a real KV, with local users connected and subscribed as given. */
function setUp(kv: Deno.Kv, isolateId = "i1") {
  const hub = new Hub();
  const published: PresenceNote[] = [];
  const presence = new Presence(kv, isolateId, hub, {
    following: () => true,
    publishPresence: (note) => published.push(note),
  });
  const conns = new Map<string, FakeConnection>();
  const connect = (userId: string, convIds: string[]) => {
    const c = new FakeConnection("c-" + userId, userId);
    hub.add(c);
    hub.subscribe(userId, convIds);
    conns.set(userId, c);
    return c;
  };
  return { hub, presence, published, connect, conns };
}

Deno.test("announce() reaches members of direct chats and small groups only, once each, batched", async () => {
  await withKv(async (kv) => {
    const direct = (await createDirect(kv, "ann", "bea")).conversation;
    const small = await createGroup(kv, "ann", "Small", ["bea", "cid"]);
    const bigIds = Array.from({ length: PRESENCE_GROUP_MAX }, (_, i) => `u${i}`);
    const big = await createGroup(kv, "ann", "Big", ["dan", ...bigIds]);
    const { presence, published, connect } = setUp(kv);
    connect("ann", [direct.id, small.id, big.id]);
    const bea = connect("bea", [direct.id, small.id]);
    const cid = connect("cid", [small.id]);
    const dan = connect("dan", [big.id]);
    await presence.announce("ann", true, null, [direct.id, small.id, big.id]);
    eq(published.map((n) => n.convIds.toSorted()), [[direct.id, small.id].toSorted()]);
    equal(bea.frames.length, 0, "batched: nothing before the flush");
    presence.flush();
    const frame = { type: "presence", userId: "ann", online: true, lastSeen: null };
    eq(bea.parsed(), [frame], "Bea shares two conversations with Ann and hears once");
    eq(cid.parsed(), [frame]);
    eq(dan.parsed(), [], "a group over the size limit does not announce");
  });
});

Deno.test("queued notes for one user: the latest wins at the flush", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { presence, connect } = setUp(kv);
    const bea = connect("bea", ["c1"]);
    presence.queue({ userId: "ann", online: true, lastSeen: null, convIds: ["c1"] });
    presence.queue({ userId: "ann", online: false, lastSeen: 42, convIds: ["c1"] });
    presence.flush();
    eq(bea.parsed(), [{ type: "presence", userId: "ann", online: false, lastSeen: 42 }]);
    presence.close();
  } finally {
    kv.close();
  }
});

Deno.test("announce() drops an arrival when the user left meanwhile", async () => {
  await withKv(async (kv) => {
    const direct = (await createDirect(kv, "ann", "bea")).conversation;
    const { presence, published, connect } = setUp(kv);
    const bea = connect("bea", [direct.id]);
    // Ann is not connected here any more: her arrival is stale.
    await presence.announce("ann", true, null, [direct.id]);
    presence.flush();
    eq(published, []);
    eq(bea.frames, []);
  });
});
