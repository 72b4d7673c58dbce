import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { createDirect, createGroup } from "../store/conversations.ts";
import { advanceCursor } from "../store/messages.ts";
import { commitMessages } from "../store/commit.ts";
import { markOnline } from "../store/presence.ts";
import { withKv } from "../store/testing.ts";
import { createUser } from "../store/users.ts";
import { conversationView, conversationViews } from "./views.ts";

const draft = (senderId: string, body: string) => ({
  id: crypto.randomUUID(),
  senderId,
  kind: "text" as const,
  body,
});

Deno.test("a direct chat is titled by the peer, with their presence, last message and unread count", async () => {
  await withKv(async (kv) => {
    const ann = await createUser(kv, { username: "ann", displayName: "Ann", passwordHash: "h" });
    const bea = await createUser(kv, { username: "bea", displayName: "Bea B.", passwordHash: "h" });
    const { conversation } = await createDirect(kv, ann.id, bea.id);
    await commitMessages(kv, conversation.id, [draft(bea.id, "one"), draft(bea.id, "two")]);
    await advanceCursor(kv, conversation.id, ann.id, 1, null);
    await markOnline(kv, "i1", [bea.id], 60_000);
    const view = await conversationView(kv, ann.id, conversation.id);
    equal(view?.title, "Bea B.");
    eq(view?.peer, {
      id: bea.id,
      username: "bea",
      displayName: "Bea B.",
      avatarUrl: null,
      online: true,
      lastSeen: null,
    });
    equal(view?.lastMessage?.body, "two");
    eq([view?.lastSeq, view?.lastReadSeq, view?.unread], [2, 1, 1]);
  });
});

Deno.test("a group keeps its title and has no peer; a non-member sees nothing", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    const view = await conversationView(kv, "ann", conv.id);
    eq([view?.title, view?.peer, view?.lastSeq, view?.unread], ["Team", null, 1, 0]);
    equal(await conversationView(kv, "zed", conv.id), null);
    equal(await conversationView(kv, "ann", "no-such-id"), null);
  });
});

Deno.test("unread mentions count each conversation's own, viewed alone or in a page of many", async () => {
  await withKv(async (kv) => {
    const ann = await createUser(kv, { username: "ann", displayName: "Ann", passwordHash: "h" });
    const bea = await createUser(kv, { username: "bea", displayName: "Bea", passwordHash: "h" });
    const convs = [];
    for (let i = 0; i < 6; i++) {
      const conv = await createGroup(kv, bea.id, `Team ${i}`, [ann.id]);
      // Conversation i mentions Ann i times, then once more in a message she has read.
      const drafts = Array.from({ length: i + 1 }, () => ({
        ...draft(bea.id, "@ann look"),
        mentions: [ann.id],
      }));
      const { stored } = await commitMessages(kv, conv.id, drafts);
      await advanceCursor(kv, conv.id, ann.id, stored[0].seq, null);
      convs.push(conv);
    }
    const page = await conversationViews(kv, ann.id, convs);
    eq(page.map((v) => v.unreadMentions), [0, 1, 2, 3, 4, 5]);
    for (const [i, conv] of convs.entries()) {
      equal((await conversationView(kv, ann.id, conv.id))?.unreadMentions, i);
    }
  });
});
