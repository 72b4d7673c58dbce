/**
 * The chat pages, for signed-in people only: `/chat` (the list) and `/chat/:id` (the list and
 * one conversation with its latest page of messages, or the page before `?before=SEQ`), both
 * rendered in full on the server. `POST /chat/:id/messages` is the message box's form for a page
 * whose script did not run: it sends through the same path as the API and the socket.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ChatNotFound, ChatPage } from "../components/ChatPage.tsx";
import { type PageError, pageError, type PageStatus } from "../lib/errors.ts";
import { LIMITS } from "../lib/protocol.ts";
import type { Runtime } from "../lib/runtime.ts";
import { parse, SendInput } from "../lib/validate.ts";
import { type Env, principalOf } from "./context.ts";
import { formFields, page } from "./pages.tsx";

/** Refusals the form page shows above the message box; any other failure is not the form's. */
const SHOWN = new Set(["invalid_input", "rate_limited", "conflict"]);

/** What the form page says when a send is refused. */
function refusal(e: PageError): string {
  return e.code === "rate_limited"
    ? "You are sending messages too fast. Wait a moment and send again."
    : `That message was not sent: ${e.message}`;
}

export function chatRoutes(rt: Runtime) {
  const show = async (
    c: Context<Env>,
    openId: string | null,
    opts: { before?: number; draft?: string; notice?: string; status?: PageStatus } = {},
  ) => {
    const principal = await principalOf(rt, c);
    if (!principal) return c.redirect("/login", 302);
    const me = principal.user;
    // The first page of the list; the island loads more as it scrolls.
    const list = await rt.chat.listConversations(me.id);
    const conversations = list.conversations;
    c.header("Cache-Control", "no-store");
    if (openId === null) {
      return page(
        c,
        <ChatPage
          me={me}
          conversations={conversations}
          nextCursor={list.nextCursor}
          openId={null}
          messages={[]}
          hasMore={false}
          members={null}
        />,
      );
    }
    // A conversation the user is not in is "not found", never revealed. One further down the
    // list (or archived) is shown all the same, and held beside the first page.
    if (!conversations.some((x) => x.id === openId)) {
      const view = await rt.chat.view(me.id, openId);
      if (!view) return page(c, <ChatNotFound />, 404);
      conversations.push(view);
    }
    const [history, detail] = await Promise.all([
      rt.chat.history(me.id, openId, { before: opts.before, limit: LIMITS.pageDefault }),
      rt.chat.detail(me.id, openId),
    ]);
    const form = { sendId: crypto.randomUUID(), draft: opts.draft, notice: opts.notice };
    return page(
      c,
      <ChatPage
        me={me}
        conversations={conversations}
        nextCursor={list.nextCursor}
        openId={openId}
        messages={history.messages}
        hasMore={history.hasMore}
        members={detail.members}
        form={form}
      />,
      opts.status,
    );
  };

  return new Hono<Env>()
    .get("/", (c) => show(c, null))
    .get("/:id", (c) => {
      const before = Number(c.req.query("before"));
      return show(c, c.req.param("id"), {
        before: Number.isSafeInteger(before) && before > 0 ? before : undefined,
      });
    })
    .post("/:id/messages", async (c) => {
      const principal = await principalOf(rt, c);
      if (!principal) return c.redirect("/login", 303);
      const convId = c.req.param("id");
      const fields = await formFields(c);
      try {
        // Browsers post a textarea's line breaks as CRLF; the other clients send LF.
        const body = (fields.body ?? "").replace(/\r\n?/g, "\n");
        const input = parse(SendInput, { id: fields.id ?? "", body });
        await rt.chat.send(principal.user.id, convId, input, null);
      } catch (err) {
        const e = pageError(err);
        if (e?.status === 404) return page(c, <ChatNotFound />, 404);
        if (!e || !SHOWN.has(e.code)) throw err;
        return show(c, convId, { draft: fields.body, notice: refusal(e), status: e.status });
      }
      // After a post, a redirect: reloading the page does not post again (and a repeated post
      // of the same form carries the same id, so it would store nothing twice anyway).
      return c.redirect(`/chat/${encodeURIComponent(convId)}`, 303);
    });
}
