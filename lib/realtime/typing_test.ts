import { deepStrictEqual as eq } from "node:assert/strict";
import { Hub } from "./hub.ts";
import { FakeConnection } from "./testing.ts";
import { Typing, TYPING_INTERVAL_MS } from "./typing.ts";

function setUp() {
  const hub = new Hub();
  const published: string[] = [];
  const typing = new Typing(hub, (c, u) => published.push(`${c}:${u}`));
  const connect = (userId: string, convIds: string[]) => {
    const c = new FakeConnection("c-" + userId, userId);
    hub.add(c);
    hub.subscribe(userId, convIds);
    return c;
  };
  return { typing, published, connect };
}

Deno.test("a member's typing reaches the other members here and is published, at most once a second", () => {
  const { typing, published, connect } = setUp();
  const ann = connect("ann", ["c1"]);
  const bea = connect("bea", ["c1"]);
  const t = 1_000_000;
  typing.local("ann", "c1", t);
  typing.local("ann", "c1", t + TYPING_INTERVAL_MS - 1);
  typing.local("ann", "c1", t + TYPING_INTERVAL_MS);
  const frame = { type: "typing", conversationId: "c1", userId: "ann" };
  eq(bea.parsed(), [frame, frame]);
  eq(ann.frames, [], "nobody hears their own typing");
  eq(published, ["c1:ann", "c1:ann"]);
});

Deno.test("typing in a conversation one is not subscribed to goes nowhere", () => {
  const { typing, published, connect } = setUp();
  const bea = connect("bea", ["c1"]);
  connect("zed", ["c2"]);
  typing.local("zed", "c1");
  eq([bea.frames, published], [[], []]);
});

Deno.test("typing from another isolate reaches the local members but the typist", () => {
  const { typing, published, connect } = setUp();
  const ann = connect("ann", ["c1"]);
  const bea = connect("bea", ["c1"]);
  typing.deliver("c1", "ann");
  eq([ann.frames.length, bea.frames.length, published.length], [0, 1, 0]);
});
