/**
 * The blocking rules the chat paths enforce: a blocked user cannot start a direct conversation
 * with the blocker, send into one, or add the blocker to a group (403 `forbidden`).
 * @module
 */
import { AppError } from "../errors.ts";
import { blocks } from "../store/blocks.ts";
import { getConversation } from "../store/conversations.ts";
import { keys } from "../store/keys.ts";
import { retry } from "../store/kv.ts";

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

/** What a blocked sender is told. */
export const SEND_BLOCKED = "You cannot send messages to this person: they have blocked you.";

/**
 * Checks a send against blocks: in a direct conversation, the peer must not block the sender.
 * Groups are open to a blocked user (the blocker's client collapses their messages).
 */
export class SendBlocks {
  #pairs = new Map<string, readonly [string, string] | null>();

  constructor(private kv: Deno.Kv) {}

  /**
   * The key whose existence refuses the send (the peer's block of the sender), or null in a
   * group. Text sends hand it to the send batcher, whose commit checks it (a read only the
   * first time an isolate sees the pair); reads the conversation once per isolate.
   */
  async guard(senderId: string, convId: string): Promise<Deno.KvKey | null> {
    let pair = this.#pairs.get(convId);
    if (pair === undefined) {
      const conv = (await getConversation(this.kv, convId)).value;
      pair = conv?.kind === "direct" && conv.pair ? conv.pair : null;
      if (this.#pairs.size > PAIRS_KEPT) this.#pairs.clear();
      if (conv) this.#pairs.set(convId, pair);
    }
    if (!pair) return null;
    return keys.block(pair[0] === senderId ? pair[1] : pair[0], senderId);
  }

  /** Throws `forbidden` when the peer blocks the sender: one read per send. */
  async check(senderId: string, convId: string): Promise<void> {
    const key = await this.guard(senderId, convId);
    if (key && (await retry(() => this.kv.get(key))).value !== null) {
      throw blockedError(SEND_BLOCKED);
    }
  }
}
