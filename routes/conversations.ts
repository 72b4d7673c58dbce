/**
 * The conversations API: list (paged), create, read, rename, membership, history, send,
 * message changes (edit, delete, reactions), read cursor, a member's settings (muted, archived).
 * @module
 */
import { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import { LIMITS } from "../lib/protocol.ts";
import type { Runtime } from "../lib/runtime.ts";
import type { ChangeAck } from "../lib/chat/service.ts";
import {
  AddMemberInput,
  ChangeIdInput,
  CreateConversationInput,
  EditInput,
  parse,
  ReactInput,
  ReadInput,
  RoleInput,
  SendInput,
  SettingsInput,
  TitleInput,
} from "../lib/validate.ts";
import { type Env, jsonBody, requireAuth } from "./context.ts";

function seqParam(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new AppError("invalid_input", `${name} must be a whole number of 0 or more.`, {
      field: name,
    });
  }
  return n;
}

/** A message's seq from the path; one that is not a whole number names no message. */
function messageSeq(raw: string): number {
  const n = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new AppError("not_found", "That message does not exist or was deleted.");
  }
  return n;
}

/** A change's answer: 201 with the ack, 200 with the first answer for a retry. */
const changeBody = (a: ChangeAck) => ({
  id: a.id,
  conversationId: a.conversationId,
  seq: a.seq,
  ts: a.ts,
  message: a.message,
});

export function conversationRoutes(rt: Runtime) {
  const chat = rt.chat;
  return new Hono<Env>()
    .use("*", requireAuth(rt))
    .get("/", async (c) => {
      const limit = seqParam(c.req.query("limit"), "limit");
      if (limit !== undefined && (limit < 1 || limit > LIMITS.pageMax)) {
        throw new AppError("invalid_input", `limit must be from 1 to ${LIMITS.pageMax}.`, {
          field: "limit",
        });
      }
      const archived = c.req.query("archived");
      if (archived !== undefined && archived !== "0" && archived !== "1") {
        throw new AppError("invalid_input", "archived must be 1 or 0.", { field: "archived" });
      }
      return c.json(
        await chat.listConversations(c.get("principal").user.id, {
          limit,
          cursor: c.req.query("cursor"),
          archived: archived === "1",
        }),
      );
    })
    .post("/", async (c) => {
      const me = c.get("principal").user.id;
      const input = parse(CreateConversationInput, await jsonBody(c));
      if (input.kind === "direct") {
        const { conversation, created } = await chat.createDirect(me, input.userId);
        return c.json({ conversation }, created ? 201 : 200);
      }
      return c.json(
        { conversation: await chat.createGroup(me, input.title, input.memberIds) },
        201,
      );
    })
    .get("/:id", async (c) => {
      return c.json(await chat.detail(c.get("principal").user.id, c.req.param("id")));
    })
    .patch("/:id", async (c) => {
      const { title } = parse(TitleInput, await jsonBody(c));
      await chat.rename(c.get("principal").user.id, c.req.param("id"), title);
      return c.body(null, 204);
    })
    .post("/:id/members", async (c) => {
      const { userId } = parse(AddMemberInput, await jsonBody(c));
      await chat.addMember(c.get("principal").user.id, c.req.param("id"), userId);
      return c.body(null, 204);
    })
    .patch("/:id/members/:userId", async (c) => {
      const { role } = parse(RoleInput, await jsonBody(c));
      await chat.setRole(
        c.get("principal").user.id,
        c.req.param("id"),
        c.req.param("userId"),
        role,
      );
      return c.body(null, 204);
    })
    .delete("/:id/members/:userId", async (c) => {
      await chat.removeMember(c.get("principal").user.id, c.req.param("id"), c.req.param("userId"));
      return c.body(null, 204);
    })
    .get("/:id/messages", async (c) => {
      const before = seqParam(c.req.query("before"), "before");
      const after = seqParam(c.req.query("after"), "after");
      const limit = seqParam(c.req.query("limit"), "limit");
      if (before !== undefined && after !== undefined) {
        throw new AppError("invalid_input", "Use either before or after, not both.", {
          field: "before",
        });
      }
      if (limit !== undefined && limit < 1) {
        throw new AppError("invalid_input", "limit must be at least 1.", { field: "limit" });
      }
      return c.json(
        await chat.history(c.get("principal").user.id, c.req.param("id"), { before, after, limit }),
      );
    })
    .post("/:id/messages", async (c) => {
      const input = parse(SendInput, await jsonBody(c));
      const ack = await chat.send(c.get("principal").user.id, c.req.param("id"), input, null);
      return c.json({ id: ack.id, seq: ack.seq, ts: ack.ts }, ack.duplicate ? 200 : 201);
    })
    .patch("/:id/messages/:seq", async (c) => {
      const input = parse(EditInput, await jsonBody(c));
      const seq = messageSeq(c.req.param("seq"));
      const me = c.get("principal").user.id;
      const ack = await chat.edit(me, c.req.param("id"), { ...input, seq }, null);
      return c.json(changeBody(ack), ack.duplicate ? 200 : 201);
    })
    .delete("/:id/messages/:seq", async (c) => {
      const { id } = parse(ChangeIdInput, { id: c.req.query("id") });
      const seq = messageSeq(c.req.param("seq"));
      const me = c.get("principal").user.id;
      const ack = await chat.deleteMessage(me, c.req.param("id"), { id, seq }, null);
      return c.json(changeBody(ack), ack.duplicate ? 200 : 201);
    })
    .post("/:id/messages/:seq/reactions", async (c) => {
      const input = parse(ReactInput, await jsonBody(c));
      const seq = messageSeq(c.req.param("seq"));
      const me = c.get("principal").user.id;
      const ack = await chat.react(me, c.req.param("id"), { ...input, seq }, null);
      return c.json(changeBody(ack), ack.duplicate ? 200 : 201);
    })
    .get("/:id/messages/:seq/reactions", async (c) => {
      const seq = messageSeq(c.req.param("seq"));
      const me = c.get("principal").user.id;
      return c.json({ reactions: await chat.reactions(me, c.req.param("id"), seq) });
    })
    .post("/:id/read", async (c) => {
      const { seq } = parse(ReadInput, await jsonBody(c));
      await chat.read(c.get("principal").user.id, c.req.param("id"), seq, null);
      return c.body(null, 204);
    })
    .patch("/:id/settings", async (c) => {
      const patch = parse(SettingsInput, await jsonBody(c));
      await chat.setSettings(c.get("principal").user.id, c.req.param("id"), patch);
      return c.body(null, 204);
    });
}

export function userRoutes(rt: Runtime) {
  return new Hono<Env>()
    .use("*", requireAuth(rt))
    .get("/", async (c) =>
      c.json({
        users: await rt.chat.searchUsers(c.req.query("q") ?? "", c.get("principal").user.id),
      }));
}
