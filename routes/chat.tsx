/**
 * The chat pages, for signed-in people only: `/chat` (the list) and `/chat/:id` (the list and
 * one conversation with its latest page of messages, or the page before `?before=SEQ`), both
 * rendered in full on the server. `POST /chat/:id/messages` is the message box's form for a page
 * whose script did not run: it sends through the same path as the API and the socket.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ChatNotFound, ChatPage, LeavePage } from "../components/ChatPage.tsx";
import { AppError, type PageError, pageError, type PageStatus } from "../lib/errors.ts";
import { LIMITS } from "../lib/protocol.ts";
import type { Runtime } from "../lib/runtime.ts";
import { parse, SendInput } from "../lib/validate.ts";
import { listBlocked } from "../lib/store/blocks.ts";
import { getUserByName } from "../lib/store/users.ts";
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
    const [list, blocked] = await Promise.all([
      rt.chat.listConversations(me.id),
      listBlocked(rt.kv, me.id),
    ]);
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
          blocked={blocked}
          form={opts.notice ? { sendId: crypto.randomUUID(), notice: opts.notice } : undefined}
        />,
        opts.status,
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
        users={history.users}
        members={detail.members}
        form={form}
        blocked={blocked}
      />,
      opts.status,
    );
  };

  /** The group the user would leave: null when it is not a group of theirs. */
  const leaving = async (userId: string, convId: string) => {
    try {
      const { conversation, members } = await rt.chat.detail(userId, convId);
      if (conversation.kind !== "group") return null;
      const owner = members.some((m) => m.id === userId && m.role === "owner");
      return { id: conversation.id, title: conversation.title, owner };
    } catch (err) {
      if (pageError(err)?.status === 404) return null;
      throw err;
    }
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
    // Leaving a group as a page without script does it: a question first (GET), then the form
    // it holds (POST, CSRF-checked like every cookie-carrying post), then back to the list.
    .get("/:id/leave", async (c) => {
      const principal = await principalOf(rt, c);
      if (!principal) return c.redirect("/login", 302);
      const group = await leaving(principal.user.id, c.req.param("id"));
      if (!group) return page(c, <ChatNotFound />, 404);
      c.header("Cache-Control", "no-store");
      return page(c, <LeavePage id={group.id} title={group.title} owner={group.owner} />);
    })
    .post("/:id/leave", async (c) => {
      const principal = await principalOf(rt, c);
      if (!principal) return c.redirect("/login", 303);
      const me = principal.user.id;
      const group = await leaving(me, c.req.param("id"));
      if (!group) return page(c, <ChatNotFound />, 404);
      try {
        await rt.chat.removeMember(me, group.id, me);
      } catch (err) {
        const e = pageError(err);
        if (!e || e.status === 404) throw err;
        const props = { id: group.id, title: group.title, owner: group.owner, error: e.message };
        return page(c, <LeavePage {...props} />, e.status);
      }
      return c.redirect("/chat", 303);
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
