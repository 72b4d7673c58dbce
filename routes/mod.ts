/**
 * The routing table: every URL the app serves, in one list, and the middleware around them.
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import { serveStatic } from "hono/deno";
import { HTTPException } from "hono/http-exception";
import { AppError, toAppError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";
import { LIMITS } from "../lib/protocol.ts";
import type { Runtime } from "../lib/runtime.ts";
import { authRoutes, meRoutes } from "./auth.ts";
import { chatRoutes } from "./chat.tsx";
import { conversationRoutes, userRoutes } from "./conversations.ts";
import type { Env } from "./context.ts";
import { healthRoutes } from "./health.ts";
import { pageRoutes } from "./pages.tsx";
import { wsRoutes } from "./ws.ts";

/** Where `deno task build` writes the CSS and island bundles. */
export const BUILD_DIR = new URL("../_build/", import.meta.url).pathname;

export function createApp(rt: Runtime): Hono<Env> {
  const app = new Hono<Env>();
  const allowed = (origin: string, c: { req: { url: string } }) =>
    origin === new URL(c.req.url).origin || rt.config.allowedOrigins.includes(origin);

  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'", "ws:", "wss:"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  // CSRF matters only where the browser attaches credentials by itself (the cookie); a request
  // carrying a bearer token cannot be forged cross-site.
  const csrfCheck = csrf({ origin: allowed });
  app.use("*", (c, next) => (c.req.header("authorization") ? next() : csrfCheck(c, next)));
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: LIMITS.jsonBodyMaxBytes,
      onError: () => {
        throw new AppError("too_large", "The request body is larger than 64 KiB.");
      },
    }),
  );

  app.route("/", healthRoutes(rt));
  app.route("/api/auth", authRoutes(rt));
  app.route("/api/me", meRoutes(rt));
  app.route("/api/users", userRoutes(rt));
  app.route("/api/conversations", conversationRoutes(rt));
  app.route("/api/ws", wsRoutes(rt));
  app.route("/", pageRoutes(rt));
  app.route("/chat", chatRoutes(rt));
  app.use(
    "/static/*",
    serveStatic({
      root: BUILD_DIR,
      rewriteRequestPath: (p) => p.replace(/^\/static/, ""),
      onFound: (_path, c) => c.header("Cache-Control", "public, max-age=300"),
    }),
  );

  app.notFound((c) => {
    if (c.req.path.startsWith("/api/")) {
      return c.json(
        { error: { code: "not_found", message: "There is nothing at this address." } },
        404,
      );
    }
    return c.redirect("/", 302);
  });
  app.onError((err, c) => {
    const e = err instanceof HTTPException ? fromHttpException(err) : toAppError(err);
    if (e.code === "internal") {
      log.error("request failed", {
        path: c.req.path,
        error: String(err),
        stack: (err as Error)?.stack,
      });
    }
    if (e.code === "rate_limited" && e.retryAfterMs) {
      c.header("Retry-After", String(Math.ceil(e.retryAfterMs / 1000)));
    }
    return c.json({ error: e.toBody() }, e.status as 400);
  });
  return app;
}

/** Hono's own refusals (CSRF, malformed requests) in the contract's error shape. */
function fromHttpException(err: HTTPException): AppError {
  if (err.status === 403) {
    return new AppError("forbidden", "This request did not come from Parley's own pages.");
  }
  if (err.status === 413) {
    return new AppError("too_large", "The request body is larger than 64 KiB.");
  }
  if (err.status === 401) return new AppError("unauthorized", "Please sign in.");
  if (err.status < 500) {
    return new AppError("invalid_input", "The request could not be understood.");
  }
  return toAppError(err);
}
