/**
 * The blocking rules the chat paths enforce: a blocked user cannot start a direct conversation
 * with the blocker, send into one, or add the blocker to a group (403 `forbidden`).
 * @module
 */
import { AppError } from "../errors.ts";
import { blocks } from "../store/blocks.ts";
import { getConversation } from "../store/conversations.ts";

/** The refusal a blocked user gets, whatever they tried. */
export const blockedError = (message: string) => new AppError("forbidden", message);

/** Throws `forbidden` when `blockerId` blocks `actorId`. */
export async function refuseIfBlocked(
  kv: Deno.Kv,
  blockerId: string,
  actorId: string,
  message: string,
): Promise<void> {
  if (await blocks(kv, blockerId, actorId)) throw blockedError(message);
}

/** Direct conversations' pairs never change, so each isolate remembers them (bounded). */
const PAIRS_KEPT = 50_000;

/**
 * Checks a send against blocks: in a direct conversation, the peer must not block the sender.
 * Groups are open to a blocked user (the blocker's client collapses their messages). Costs one
 * read per send into a direct conversation, once the conversation's pair is known.
 */
export class SendBlocks {
  #pairs = new Map<string, readonly [string, string] | null>();

  constructor(private kv: Deno.Kv) {}

  async check(senderId: string, convId: string): Promise<void> {
    let pair = this.#pairs.get(convId);
    if (pair === undefined) {
      const conv = (await getConversation(this.kv, convId)).value;
      pair = conv?.kind === "direct" && conv.pair ? conv.pair : null;
      if (this.#pairs.size > PAIRS_KEPT) this.#pairs.clear();
      if (conv) this.#pairs.set(convId, pair);
    }
    if (!pair) return;
    const peer = pair[0] === senderId ? pair[1] : pair[0];
    await refuseIfBlocked(
      this.kv,
      peer,
      senderId,
      "You cannot send messages to this person: they have blocked you.",
    );
  }
}
