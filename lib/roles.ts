/**
 * Who may do what in a group: the one statement of the rule the server enforces
 * (lib/chat/service.ts) and the browser follows to offer only the actions that will be allowed
 * (components/GroupInfo.tsx). Browser compatible: no Deno APIs, no server imports, no side
 * effects. Leaving (removing yourself) is open to every member and is not a question for it.
 * @module
 */
import type { Role } from "./protocol.ts";

/** Whether a member with role `actor` may rename the group or add people to it. */
export function mayManage(actor: Role | undefined): boolean {
  return actor === "owner" || actor === "admin";
}

/** Whether a member with role `actor` may change anyone's role (only the owner may). */
export function mayChangeRoles(actor: Role | undefined): boolean {
  return actor === "owner";
}

/** Whether the role of a member with role `target` may be changed at all (the owner's may not:
 * ownership passes only when the owner leaves). */
export function roleChangeable(target: Role): boolean {
  return target !== "owner";
}

/** Whether a member with role `actor` may remove another member with role `target`: the owner
 * anyone, an admin only plain members. */
export function mayRemove(actor: Role | undefined, target: Role): boolean {
  return actor === "owner" || (actor === "admin" && target === "member");
}
