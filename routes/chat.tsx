/**
 * The chat pages, for signed-in people only: `/chat` (the list) and `/chat/:id` (the list and
 * one conversation with its latest page of messages), both rendered in full on the server.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ChatNotFound, ChatPage } from "../components/ChatPage.tsx";
import { LIMITS } from "../lib/protocol.ts";
import type { Runtime } from "../lib/runtime.ts";
import { type Env, principalOf } from "./context.ts";
import { page } from "./pages.tsx";

export function chatRoutes(rt: Runtime) {
  const show = async (c: Context<Env>, openId: string | null) => {
    const principal = await principalOf(rt, c);
    if (!principal) return c.redirect("/login", 302);
    const me = principal.user;
    const conversations = await rt.chat.listConversations(me.id);
    c.header("Cache-Control", "no-store");
    if (openId === null) {
      return page(
        c,
        <ChatPage
          me={me}
          conversations={conversations}
          openId={null}
          messages={[]}
          hasMore={false}
          members={null}
        />,
      );
    }
    // Membership is the list itself: a conversation not in it is "not found", never revealed.
    if (!conversations.some((x) => x.id === openId)) return page(c, <ChatNotFound />, 404);
    const [history, detail] = await Promise.all([
      rt.chat.history(me.id, openId, { limit: LIMITS.pageDefault }),
      rt.chat.detail(me.id, openId),
    ]);
    return page(
      c,
      <ChatPage
        me={me}
        conversations={conversations}
        openId={openId}
        messages={history.messages}
        hasMore={history.hasMore}
        members={detail.members}
      />,
    );
  };
  return new Hono<Env>()
    .get("/", (c) => show(c, null))
    .get("/:id", (c) => show(c, c.req.param("id")));
}
