/**
 * How a group change (a `kind: "system"` message) reads as a line in the timeline and in the
 * conversation list: "Ada added Grace", "Ada renamed the group to “Launch”", "Grace left".
 * The reader is "You", and the member a change is about is "you" when it is the reader, so a
 * new owner reads "Ada made you the owner". Browser compatible, no side effects.
 * @module
 */
import type { Message, SystemEvent } from "../lib/protocol.ts";

/** Every user id a message refers to: its sender, and the people of its group change. */
export function referencedIds(m: Pick<Message, "senderId" | "system">): string[] {
  const ids = [m.senderId];
  if (m.system?.actorId) ids.push(m.system.actorId);
  if (m.system?.userId) ids.push(m.system.userId);
  return ids;
}

/** The sentence for a group change; `nameOf` gives a user's current name. */
export function systemText(e: SystemEvent, meId: string, nameOf: (id: string) => string): string {
  const actor = e.actorId === meId ? "You" : nameOf(e.actorId);
  const user = e.userId === undefined ? "someone" : e.userId === meId ? "you" : nameOf(e.userId);
  switch (e.action) {
    case "created":
      return e.title ? `${actor} created the group “${e.title}”` : `${actor} created the group`;
    case "renamed":
      return `${actor} renamed the group to “${e.title ?? ""}”`;
    case "added":
      return `${actor} added ${user}`;
    case "removed":
      return `${actor} removed ${user}`;
    case "left":
      // The one who left is the actor (and `userId`, when given, the same person).
      return `${e.userId && e.userId !== e.actorId ? capital(user) : actor} left`;
    case "owner_changed":
      return `${actor} made ${user} the owner`;
    default:
      return `${actor} changed the group`;
  }
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
