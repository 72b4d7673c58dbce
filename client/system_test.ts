import { deepStrictEqual as eq } from "node:assert/strict";
import { referencedIds, systemText } from "./system.ts";

const names: Record<string, string> = { ada: "Ada", grace: "Grace Hopper" };
const text = (e: Parameters<typeof systemText>[0], me = "bob") =>
  systemText(e, me, (id) => names[id] ?? "Someone");

Deno.test("group changes read as sentences naming who did what to whom", () => {
  eq(
    text({ action: "created", actorId: "ada", title: "Launch" }),
    "Ada created the group “Launch”",
  );
  eq(text({ action: "renamed", actorId: "ada", title: "Ship" }), "Ada renamed the group to “Ship”");
  eq(text({ action: "added", actorId: "ada", userId: "grace" }), "Ada added Grace Hopper");
  eq(text({ action: "removed", actorId: "ada", userId: "grace" }), "Ada removed Grace Hopper");
  eq(text({ action: "left", actorId: "grace", userId: "grace" }), "Grace Hopper left");
  eq(text({ action: "left", actorId: "grace" }), "Grace Hopper left");
  eq(
    text({ action: "owner_changed", actorId: "ada", userId: "grace" }),
    "Ada made Grace Hopper the owner",
  );
});

Deno.test("the reader is You, and a new owner is told it is them", () => {
  eq(text({ action: "added", actorId: "ada", userId: "grace" }, "ada"), "You added Grace Hopper");
  eq(
    text({ action: "owner_changed", actorId: "ada", userId: "grace" }, "grace"),
    "Ada made you the owner",
  );
  eq(text({ action: "left", actorId: "grace" }, "grace"), "You left");
});

Deno.test("a system message refers to its sender, actor and subject", () => {
  eq(
    referencedIds({ senderId: "ada", system: { action: "added", actorId: "ada", userId: "g" } }),
    ["ada", "ada", "g"],
  );
  eq(referencedIds({ senderId: "ada" }), ["ada"]);
});
