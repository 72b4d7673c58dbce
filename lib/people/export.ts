/**
 * A person's export of their own data (`GET /api/me/export`): JSON lines, streamed.
 * @module
 */
import type { Conversation, Message } from "../protocol.ts";
import { conversationViews } from "../chat/views.ts";
import { listBlocked } from "../store/blocks.ts";
import { getConversations, listMemberships } from "../store/conversations.ts";
import { keys } from "../store/keys.ts";
import { getUser, publicUser } from "../store/users.ts";

/**
 * The user's own data as JSON lines, streamed: their profile, then each conversation they
 * are in, then every message they sent in it. Read lazily, a conversation at a time, so a
 * long history never sits in memory.
 */
export function exportAccount(kv: Deno.Kv, userId: string): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const line = (o: unknown) => enc.encode(JSON.stringify(o) + "\n");
  async function* lines(): AsyncGenerator<Uint8Array> {
    const user = await getUser(kv, userId);
    if (!user) return;
    yield line({
      type: "profile",
      user: publicUser(user),
      createdTs: user.createdAt,
      blocked: await listBlocked(kv, userId),
    });
    const ids = await listMemberships(kv, userId);
    for (let i = 0; i < ids.length; i += 50) {
      const convs = await getConversations(kv, ids.slice(i, i + 50));
      const views: Conversation[] = await conversationViews(kv, userId, convs);
      for (const conversation of views) {
        yield line({ type: "conversation", conversation });
        for await (
          const e of kv.list<Message>({ prefix: keys.messagesOf(conversation.id) }, {
            batchSize: 500,
          })
        ) {
          if (e.value.senderId === userId) yield line({ type: "message", message: e.value });
        }
      }
    }
  }
  const it = lines();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await it.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await it.return(undefined);
    },
  }, { highWaterMark: 0 });
}
