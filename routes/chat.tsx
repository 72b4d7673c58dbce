/**
 * The chat pages, for signed-in people only.
 * @module
 */
import { Hono } from "hono";
import { ChatPage } from "../components/ChatPage.tsx";
import type { Runtime } from "../lib/runtime.ts";
import { type Env, principalOf } from "./context.ts";
import { page } from "./pages.tsx";

export function chatRoutes(rt: Runtime) {
  return new Hono<Env>().get("/", async (c) => {
    const principal = await principalOf(rt, c);
    if (!principal) return c.redirect("/login", 302);
    const conversations = await rt.chat.listConversations(principal.user.id);
    return page(c, <ChatPage user={principal.user} conversations={conversations} />);
  });
}
