import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { createDirect, createGroup } from "../store/conversations.ts";
import { advanceCursor } from "../store/messages.ts";
import { commitMessages } from "../store/commit.ts";
import { markOnline } from "../store/presence.ts";
import { withKv } from "../store/testing.ts";
import { createUser } from "../store/users.ts";
import { conversationView } from "./views.ts";

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
