import { deepStrictEqual as eq } from "node:assert/strict";
import type { Conversation } from "../protocol.ts";
import { Hub } from "./hub.ts";
import { ConversationRefresher } from "./refresh.ts";
import { FakeConnection } from "./testing.ts";

function setUp() {
  const hub = new Hub();
  const asked: string[] = [];
  const viewer = (userId: string, convId: string) => {
    asked.push(`${userId}:${convId}`);
    // Bea is no longer a member: no view, no frame.
    return Promise.resolve(
      userId === "bea" ? null : { id: convId, title: `for ${userId}` } as Conversation,
    );
  };
  const refresher = new ConversationRefresher(hub, viewer, () => Promise.resolve());
  const connect = (userId: string, convIds: string[]) => {
    const c = new FakeConnection("c-" + userId, userId);
    hub.add(c);
    hub.subscribe(userId, convIds);
    return c;
  };
  return { refresher, asked, connect };
}

Deno.test("a burst of changes to one conversation gives each local member one frame, their own view", async () => {
  const { refresher, asked, connect } = setUp();
  const ann = connect("ann", ["c1"]);
  const cid = connect("cid", ["c1", "c2"]);
  refresher.queue("c1");
  refresher.queue("c1");
  refresher.queue("c1");
  await refresher.flush();
  eq(asked.toSorted(), ["ann:c1", "cid:c1"]);
  eq(ann.parsed(), [{ type: "conversation", conversation: { id: "c1", title: "for ann" } }]);
  eq(cid.parsed(), [{ type: "conversation", conversation: { id: "c1", title: "for cid" } }]);
});

Deno.test("a member whose view is gone gets no frame", async () => {
  const { refresher, connect } = setUp();
  const bea = connect("bea", ["c1"]);
  refresher.queue("c1");
  await refresher.flush();
  eq(bea.frames, []);
});

Deno.test("queued changes go out by themselves after a short pause", async () => {
  const { refresher, connect } = setUp();
  const ann = connect("ann", ["c1"]);
  refresher.queue("c1");
  await new Promise((r) => setTimeout(r, 100));
  eq(ann.parsed().map((f) => f.type), ["conversation"]);
  refresher.close();
});
