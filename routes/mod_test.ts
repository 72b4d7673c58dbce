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
  "GET    /api/me (middleware)",
  "GET    /api/me",
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
  "GET    /chat/:id",
  "POST   /chat/:id/messages",
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
