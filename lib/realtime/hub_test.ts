import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { Hub } from "./hub.ts";
import { FakeConnection } from "./testing.ts";

Deno.test("add() reports a user's first connection only", () => {
  const hub = new Hub();
  equal(hub.add(new FakeConnection("a1", "ann")), true);
  equal(hub.add(new FakeConnection("a2", "ann")), false);
  equal(hub.add(new FakeConnection("b1", "bea")), true);
  equal(hub.size, 3);
});

Deno.test("toConversation() reaches every connection of every subscribed user but the excluded one", () => {
  const hub = new Hub();
  const a1 = new FakeConnection("a1", "ann");
  const a2 = new FakeConnection("a2", "ann");
  const b1 = new FakeConnection("b1", "bea");
  const c1 = new FakeConnection("c1", "cid");
  for (const c of [a1, a2, b1, c1]) hub.add(c);
  hub.subscribe("ann", ["x"]);
  hub.subscribe("bea", ["x"]);
  hub.subscribe("cid", ["y"]);
  hub.toConversation("x", "F", "a1");
  eq([a1.frames, a2.frames, b1.frames, c1.frames], [[], ["F"], ["F"], []]);
});

Deno.test("subscribe() returns only conversations that had no local listener", () => {
  const hub = new Hub();
  hub.add(new FakeConnection("a1", "ann"));
  hub.add(new FakeConnection("b1", "bea"));
  eq(hub.subscribe("ann", ["x", "y"]), ["x", "y"]);
  eq(hub.subscribe("bea", ["y", "z"]), ["z"]);
  eq(hub.subscribe("nobody", ["w"]), [], "a user without a connection here subscribes to nothing");
  equal(hub.isSubscribed("ann", "x"), true);
  equal(hub.isSubscribed("bea", "x"), false);
});

Deno.test("remove() of a user's last connection unsubscribes them and names the idle conversations", () => {
  const hub = new Hub();
  const a1 = new FakeConnection("a1", "ann");
  const a2 = new FakeConnection("a2", "ann");
  hub.add(a1);
  hub.add(a2);
  hub.add(new FakeConnection("b1", "bea"));
  hub.subscribe("ann", ["x", "y"]);
  hub.subscribe("bea", ["y"]);
  eq(hub.remove(a1), { last: false, idle: [] });
  equal(hub.isSubscribed("ann", "x"), true, "her other tab still listens");
  eq(hub.remove(a2), { last: true, idle: ["x"] });
  equal(hub.hasUser("ann"), false);
  eq([...hub.usersIn("y")], ["bea"]);
  eq(hub.remove(a2), { last: false, idle: [] }, "removing twice changes nothing");
});

Deno.test("unsubscribe() says when a conversation lost its last local listener", () => {
  const hub = new Hub();
  hub.add(new FakeConnection("a1", "ann"));
  hub.add(new FakeConnection("b1", "bea"));
  hub.subscribe("ann", ["x"]);
  hub.subscribe("bea", ["x"]);
  equal(hub.unsubscribe("ann", "x"), false);
  equal(hub.unsubscribe("bea", "x"), true);
  eq([...hub.convsOf("ann")], []);
});

Deno.test("toUser() skips the excluded connection and users not here", () => {
  const hub = new Hub();
  const a1 = new FakeConnection("a1", "ann");
  const a2 = new FakeConnection("a2", "ann");
  hub.add(a1);
  hub.add(a2);
  hub.toUser("ann", "F", "a2");
  hub.toUser("ghost", "G");
  eq([a1.frames, a2.frames], [["F"], []]);
});
