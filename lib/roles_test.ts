import { deepStrictEqual as eq } from "node:assert/strict";
import type { Role } from "./protocol.ts";
import { mayChangeRoles, mayManage, mayRemove, roleChangeable } from "./roles.ts";

const ROLES: Role[] = ["owner", "admin", "member"];

Deno.test("owner and admins manage the group; plain members and outsiders do not", () => {
  eq(ROLES.map(mayManage), [true, true, false]);
  eq(mayManage(undefined), false);
});

Deno.test("only the owner changes roles, and the owner's own role never changes", () => {
  eq(ROLES.map(mayChangeRoles), [true, false, false]);
  eq(mayChangeRoles(undefined), false);
  eq(ROLES.map(roleChangeable), [false, true, true]);
});

Deno.test("the owner removes anyone, an admin only plain members, a member nobody", () => {
  const table = ROLES.map((actor) => ROLES.map((target) => mayRemove(actor, target)));
  eq(table, [
    [true, true, true],
    [false, false, true],
    [false, false, false],
  ]);
  eq(ROLES.map((target) => mayRemove(undefined, target)), [false, false, false]);
});
