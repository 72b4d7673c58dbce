import { deepStrictEqual as eq } from "node:assert/strict";
import { chatPath, openIdFromPath, pageTitle } from "./nav.ts";

Deno.test("a conversation's path round-trips, odd characters included", () => {
  for (const id of ["01HXYZ", "a b/c?d#e", "ünï"]) eq(openIdFromPath(chatPath(id)), id);
  eq(chatPath(null), "/chat");
  eq(openIdFromPath("/chat"), null);
  eq(openIdFromPath("/chat/"), null);
  eq(openIdFromPath("/login"), null);
});

Deno.test("the page title names the open conversation", () => {
  eq(pageTitle("Team"), "Team · Parley");
  eq(pageTitle(undefined), "Parley");
});
