/**
 * The routing table, printed and pinned: adding, removing or reordering a route (or the
 * middleware in front of one, such as the sign-in check) must be a deliberate change to the
 * list below, never a side effect of a refactor.
 */
import { deepStrictEqual } from "node:assert/strict";
import { inspectRoutes } from "hono/dev";
import { loadConfig } from "../lib/config.ts";
import { createRuntime } from "../lib/runtime.ts";
import { openKv } from "../lib/store/kv.ts";
import { createApp } from "./mod.ts";

/** In order: Hono runs middleware and handlers in the order they were registered. */
const EXPECTED = [
  "ALL    /* (middleware observe)",
  "ALL    /* (middleware compressPages)",
  "ALL    /* (middleware secureHeaders)",
  "ALL    /* (middleware)",
  "ALL    /* (middleware bodyLimitExceptUploads)",
  "GET    /health",
  "GET    /ready",
  "GET    /metrics",
  "POST   /api/auth/register",
  "POST   /api/auth/login",
  "POST   /api/auth/refresh",
  "POST   /api/auth/logout (middleware)",
  "POST   /api/auth/logout",
  "ALL    /api/me/* (middleware)",
  "GET    /api/me",
  "PATCH  /api/me",
  "DELETE /api/me",
  "PUT    /api/me/avatar",
  "DELETE /api/me/avatar",
  "POST   /api/me/password",
  "GET    /api/me/sessions",
  "DELETE /api/me/sessions",
  "DELETE /api/me/sessions/:id",
  "GET    /api/me/export",
  "GET    /api/me/blocks",
  "PUT    /api/me/blocks/:userId",
  "DELETE /api/me/blocks/:userId",
  "GET    /api/users/:id (middleware)",
  "GET    /api/users/:id",
  "GET    /api/users/:id/avatar (middleware)",
  "GET    /api/users/:id/avatar",
  "ALL    /api/users/* (middleware)",
  "GET    /api/users",
  "POST   /api/conversations/:id/attachments (middleware)",
  "POST   /api/conversations/:id/attachments",
  "GET    /api/attachments/:id (middleware)",
  "GET    /api/attachments/:id",
  "GET    /api/attachments/:id/preview (middleware)",
  "GET    /api/attachments/:id/preview",
  "ALL    /api/conversations/* (middleware)",
  "GET    /api/conversations",
  "POST   /api/conversations",
  "GET    /api/conversations/:id",
  "PATCH  /api/conversations/:id",
  "POST   /api/conversations/:id/members",
  "PATCH  /api/conversations/:id/members/:userId",
  "DELETE /api/conversations/:id/members/:userId",
  "GET    /api/conversations/:id/messages",
  "POST   /api/conversations/:id/messages",
  "PATCH  /api/conversations/:id/messages/:seq",
  "DELETE /api/conversations/:id/messages/:seq",
  "POST   /api/conversations/:id/messages/:seq/reactions",
  "GET    /api/conversations/:id/messages/:seq/reactions",
  "POST   /api/conversations/:id/read",
  "PATCH  /api/conversations/:id/settings",
  "GET    /api/ws",
  "GET    /",
  "GET    /login",
  "GET    /register",
  "POST   /register",
  "POST   /login",
  "POST   /logout",
  "GET    /chat",
  "POST   /chat/direct",
  "GET    /chat/:id",
  "GET    /chat/:id/leave",
  "POST   /chat/:id/leave",
  "POST   /chat/:id/messages",
  "GET    /settings",
  "POST   /settings/profile",
  "POST   /settings/avatar",
  "POST   /settings/avatar/remove",
  "POST   /settings/password",
  "POST   /settings/sessions/revoke-others",
  "POST   /settings/sessions/:id/revoke",
  "POST   /settings/blocks",
  "POST   /settings/blocks/:id/remove",
  "POST   /settings/delete",
  "GET    /static/* (middleware staticFiles)",
  "GET    /static/*",
];

Deno.test("the routing table lists exactly the expected routes and middleware, in order", async () => {
  const kv = await openKv(":memory:");
  const rt = await createRuntime(loadConfig({ KV_PATH: ":memory:", LOG_LEVEL: "error" }), kv);
  try {
    const table = inspectRoutes(createApp(rt)).map((r) => {
      const name = r.name.startsWith("[") ? "" : ` ${r.name}`;
      return `${r.method.padEnd(6)} ${r.path}${r.isMiddleware ? ` (middleware${name})` : ""}`;
    });
    // deno-lint-ignore no-console
    console.log(table.join("\n"));
    deepStrictEqual(table, EXPECTED);
  } finally {
    await rt.close();
    kv.close();
  }
});
