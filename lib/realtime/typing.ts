/**
 * Typing indicators: ephemeral, so they ride on BroadcastChannel alone, and throttled per
 * member and conversation so a fast typist costs the other members one frame a second.
 * @module
 */
import type { Hub } from "./hub.ts";

/** A member's typing is passed on at most once per this long per conversation. */
export const TYPING_INTERVAL_MS = 1000;
/** Throttle entries kept before they are all dropped (a dropped one only allows one early). */
const TYPING_KEPT = 10_000;

export class Typing {
  /** Whether `to` must not hear of `from` (a block); the engine sets it. */
  hides: (from: string, to: string) => boolean = () => false;
  #last = new Map<string, number>();

  /** @param publish tells other isolates (the broker's channel). */
  constructor(private hub: Hub, private publish: (convId: string, userId: string) => void) {}

  /** A local member is typing: other members here and elsewhere hear of it, throttled. */
  local(userId: string, convId: string, now = Date.now()): void {
    if (!this.hub.isSubscribed(userId, convId)) return;
    const key = userId + "\u0000" + convId;
    if (now - (this.#last.get(key) ?? 0) < TYPING_INTERVAL_MS) return;
    this.#last.set(key, now);
    if (this.#last.size > TYPING_KEPT) this.#last.clear();
    this.deliver(convId, userId);
    this.publish(convId, userId);
  }

  /** Tells the other local members of a conversation that `userId` is typing. */
  deliver(convId: string, userId: string): void {
    const raw = JSON.stringify({ type: "typing", conversationId: convId, userId });
    for (const u of this.hub.usersIn(convId)) {
      if (u !== userId && !this.hides(userId, u)) this.hub.toUser(u, raw);
    }
  }
}
