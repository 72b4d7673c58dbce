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
import { AppError, type PageError, pageError, type PageStatus } from "../lib/errors.ts";
import { LIMITS } from "../lib/protocol.ts";
import type { Runtime } from "../lib/runtime.ts";
import { parse, SendInput } from "../lib/validate.ts";
import { listBlocked } from "../lib/store/blocks.ts";
import { getUserByName, getUsers, publicUser } from "../lib/store/users.ts";
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
    const [conversations, blocked] = await Promise.all([
      rt.chat.listConversations(me.id),
      listBlocked(rt.kv, me.id),
    ]);
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
          blocked={blocked}
          form={opts.notice ? { sendId: crypto.randomUUID(), notice: opts.notice } : undefined}
        />,
        opts.status,
      );
    }
    // Membership is the list itself: a conversation not in it is "not found", never revealed.
    if (!conversations.some((x) => x.id === openId)) return page(c, <ChatNotFound />, 404);
    const [history, detail] = await Promise.all([
      rt.chat.history(me.id, openId, { before: opts.before, limit: LIMITS.pageDefault }),
      rt.chat.detail(me.id, openId),
    ]);
    const form = { sendId: crypto.randomUUID(), draft: opts.draft, notice: opts.notice };
    // Authors who are no longer members keep their name; a deleted account shows as such.
    const memberIds = new Set(detail.members.map((m) => m.id));
    const others = [...new Set(history.messages.map((m) => m.senderId))]
      .filter((id) => !memberIds.has(id));
    const found = new Map((await getUsers(rt.kv, others)).map((u) => [u.id, publicUser(u)]));
    const authors = Object.fromEntries(others.map((id) => [id, found.get(id) ?? null]));
    return page(
      c,
      <ChatPage
        me={me}
        conversations={conversations}
        openId={openId}
        messages={history.messages}
        hasMore={history.hasMore}
        members={detail.members}
        form={form}
        blocked={blocked}
        authors={authors}
      />,
      opts.status,
    );
  };

  return new Hono<Env>()
    .get("/", (c) => show(c, null))
    // Starting a direct chat by username, for a page whose script did not run.
    .post("/direct", async (c) => {
      const principal = await principalOf(rt, c);
      if (!principal) return c.redirect("/login", 303);
      const name = ((await formFields(c)).username ?? "").trim().replace(/^@/, "");
      try {
        const other = name ? await getUserByName(rt.kv, name) : null;
        if (!other) {
          throw new AppError("not_found", `There is no user "${name}".`, { field: "username" });
        }
        const { conversation } = await rt.chat.createDirect(principal.user.id, other.id);
        return c.redirect(`/chat/${encodeURIComponent(conversation.id)}`, 303);
      } catch (err) {
        const e = pageError(err);
        if (!e) throw err;
        return show(c, null, { notice: e.message, status: 400 });
      }
    })
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
