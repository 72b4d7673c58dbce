/**
 * `conversation` frames after a conversation changed (renamed, members added or removed):
 * each local member gets their own view of it, and a burst of changes (a group of 5,000 made)
 * is coalesced into one frame per member.
 * @module
 */
import { log } from "../log.ts";
import type { Conversation } from "../protocol.ts";
import type { Hub } from "./hub.ts";

/** Builds a user's view of a conversation (the chat service's views provide this). */
export type ConversationViewer = (userId: string, convId: string) => Promise<Conversation | null>;

/** Changes within this long go out together. */
export const CONV_REFRESH_MS = 30;

export class ConversationRefresher {
  #pending = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** @param ready resolves when a followed conversation's delivery is set up, so members who
   * just joined it get the frame after they can receive its messages. */
  constructor(
    private hub: Hub,
    private viewer: ConversationViewer,
    private ready: (convId: string) => Promise<void> | undefined,
  ) {}

  /** Queues `conversation` frames for the local members of a conversation. */
  queue(convId: string): void {
    this.#pending.add(convId);
    this.#timer ??= setTimeout(() => this.flush(), CONV_REFRESH_MS);
  }

  /** Sends the queued frames now. */
  async flush(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const convIds = [...this.#pending];
    this.#pending.clear();
    for (const convId of convIds) {
      await this.ready(convId);
      await Promise.all([...this.hub.usersIn(convId)].map(async (userId) => {
        try {
          const conversation = await this.viewer(userId, convId);
          if (conversation) {
            this.hub.toUser(userId, JSON.stringify({ type: "conversation", conversation }));
          }
        } catch (err) {
          log.warn("conversation frame failed", { convId, error: String(err) });
        }
      }));
    }
  }

  /** Drops what is queued and stops the timer. */
  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending.clear();
  }
}
