/**
 * The caller's own account over JSON (`/api/me`): profile, avatar, password, sessions,
 * deletion, export and blocks; and `GET /api/users/:id/avatar`, any user's picture for any
 * signed-in user. Thin: parse, call `rt.accounts`, shape the answer.
 * @module
 */
import { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import type { Runtime } from "../lib/runtime.ts";
import { getUser, publicUser } from "../lib/store/users.ts";
import { DeleteAccountInput, parse, PasswordChangeInput, ProfileInput } from "../lib/validate.ts";
import { clearSessionCookie, clientAddr, type Env, jsonBody, requireAuth } from "./context.ts";

/** The avatar upload: its body has its own limit (2 MiB), checked while it is read. */
export const AVATAR_PATH = /^\/api\/me\/avatar\/?$/;

export function meRoutes(rt: Runtime) {
  const accounts = rt.accounts;
  const addr = (c: Parameters<typeof clientAddr>[0]) => clientAddr(c, rt.config.trustProxyHops);
  return new Hono<Env>()
    .use("*", requireAuth(rt))
    .get("/", (c) => c.json({ user: c.get("principal").user }))
    .patch("/", async (c) => {
      const { displayName } = parse(ProfileInput, await jsonBody(c));
      return c.json({ user: await accounts.rename(c.get("principal").user.id, displayName) });
    })
    .delete("/", async (c) => {
      const { password } = parse(DeleteAccountInput, await jsonBody(c));
      await accounts.deleteAccount(c.get("principal").user.id, password, addr(c));
      clearSessionCookie(c);
      return c.body(null, 204);
    })
    .put("/avatar", async (c) => {
      const user = await accounts.setAvatar(
        c.get("principal").user.id,
        c.req.raw.body,
        c.req.header("content-length"),
      );
      return c.json({ user });
    })
    .delete("/avatar", async (c) => {
      return c.json({ user: await accounts.clearAvatar(c.get("principal").user.id) });
    })
    .post("/password", async (c) => {
      const input = parse(PasswordChangeInput, await jsonBody(c));
      const { user, sessionId } = c.get("principal");
      await accounts.changePassword(user.id, sessionId, input, addr(c));
      return c.body(null, 204);
    })
    .get("/sessions", async (c) => {
      const { user, sessionId } = c.get("principal");
      return c.json({ sessions: await accounts.sessions(user.id, sessionId) });
    })
    .delete("/sessions", async (c) => {
      // Every session but this one ("sign out everywhere else").
      const { user, sessionId } = c.get("principal");
      const revoked = await accounts.revokeOthers(user.id, sessionId);
      return c.json({ revoked });
    })
    .delete("/sessions/:id", async (c) => {
      const { user, sessionId } = c.get("principal");
      const id = c.req.param("id");
      await accounts.revokeSession(user.id, id);
      if (id === sessionId) clearSessionCookie(c);
      return c.body(null, 204);
    })
    .get("/export", (c) => {
      const { user } = c.get("principal");
      c.header("Content-Type", "application/x-ndjson; charset=utf-8");
      c.header(
        "Content-Disposition",
        `attachment; filename="parley-${user.username}.jsonl"`,
      );
      c.header("Cache-Control", "no-store");
      return c.body(accounts.export(user.id));
    })
    .get("/blocks", async (c) => {
      return c.json({ users: await accounts.blocked(c.get("principal").user.id) });
    })
    .put("/blocks/:userId", async (c) => {
      await accounts.block(c.get("principal").user.id, c.req.param("userId"));
      return c.body(null, 204);
    })
    .delete("/blocks/:userId", async (c) => {
      await accounts.unblock(c.get("principal").user.id, c.req.param("userId"));
      return c.body(null, 204);
    });
}

/** `GET /api/users/:id/avatar?v=HASH`: the stored picture, cached for good (a new picture is
 * a new URL). Served like an attachment image: never sniffed or run by the browser. */
export function avatarRoutes(rt: Runtime) {
  return new Hono<Env>()
    // A message's author who is no longer a member (their name and picture stay while the
    // account exists; a deleted one is 404, shown as "Deleted account").
    .get("/:id", requireAuth(rt), async (c) => {
      const user = await getUser(rt.kv, c.req.param("id") ?? "");
      if (!user) throw new AppError("not_found", "That user does not exist.");
      return c.json({ user: publicUser(user) });
    })
    .get("/:id/avatar", requireAuth(rt), async (c) => {
      const found = await rt.accounts.avatar(c.req.param("id") ?? "", c.req.query("v"));
      if (!found) throw new AppError("not_found", "That user has no such picture.");
      c.header("Content-Type", found.type);
      c.header("Content-Length", String(found.manifest.size));
      c.header("Cache-Control", "private, max-age=31536000, immutable");
      c.header("ETag", `"${found.hash}"`);
      c.header("X-Content-Type-Options", "nosniff");
      c.header("Content-Security-Policy", "default-src 'none'; sandbox");
      c.header("Content-Disposition", "inline");
      if (c.req.header("if-none-match") === `"${found.hash}"`) return c.body(null, 304);
      return c.body(rt.accounts.read(found.manifest));
    });
}
