/**
 * The routing table: every URL the app serves, in one list, and the middleware around them.
 * @module
 */
import { type Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import { HTTPException } from "hono/http-exception";
import { apiError, AppError, toAppError } from "../lib/errors.ts";
import { log, securityEvent } from "../lib/log.ts";
import { LIMITS } from "../lib/protocol.ts";
import type { Runtime } from "../lib/runtime.ts";
import { attachmentRoutes, UPLOAD_PATH } from "./attachments.ts";
import { authRoutes } from "./auth.ts";
import { AVATAR_PATH, avatarRoutes, meRoutes } from "./me.ts";
import { limitBody } from "./body.ts";
import { chatRoutes } from "./chat.tsx";
import { compressPages } from "./compress.ts";
import { conversationRoutes, userRoutes } from "./conversations.ts";
import { bearerToken, type Env, SESSION_COOKIE } from "./context.ts";
import { healthRoutes } from "./health.ts";
import { metricsRoutes } from "./metrics.ts";
import { observe } from "./observe.ts";
import { pageRoutes } from "./pages.tsx";
import { AVATAR_FORM_PATH, settingsRoutes } from "./settings.tsx";
import { staticRoutes } from "./static.ts";
import { wsRoutes } from "./ws.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const SIGN_IN_PATHS = new Set(["/api/auth/login", "/api/auth/register", "/api/auth/refresh"]);

/** Where `deno task build` writes the CSS and island bundles. */
export const BUILD_DIR = new URL("../_build/", import.meta.url).pathname;

export function createApp(rt: Runtime): Hono<Env> {
  const app = new Hono<Env>();
  const allowed = (origin: string, c: { req: { url: string } }) =>
    origin === new URL(c.req.url).origin || rt.config.allowedOrigins.includes(origin);

  app.use("*", observe);
  app.use("*", compressPages);
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        // 'self' covers ws: and wss: of the same origin (CSP 3; Chromium does, tested in
        // tests/browser/csp_test.ts): any other host would let injected script carry data away.
        connectSrc: [
          "'self'",
          ...rt.config.allowedOrigins.flatMap((o) => [o, o.replace(/^http/, "ws")]),
        ],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
      crossOriginEmbedderPolicy: false,
      // Downloads set a stricter policy of their own (a sandbox): keep it.
      overwrite: false,
    }),
  );
  // CSRF matters only where the browser attaches credentials by itself (the cookie). A request
  // carrying a bearer token cannot be forged cross-site, and it is then authenticated by that
  // token alone (`principalOf` never falls back to the cookie when an Authorization header is
  // there). Otherwise: a state change that carries the session cookie must come from an
  // allowed origin, whatever its content type; and form posts must, cookie or not (Hono's
  // csrf), so that nobody can be signed in to someone else's account by a forged form.
  const csrfCheck = csrf({ origin: allowed });
  app.use("*", (c, next) => {
    if (bearerToken(c)) return next();
    // Authentication before CSRF: an API request with no session cookie carries nothing a
    // forger could ride on, so the route's own check answers it (401 where sign-in is needed).
    // The routes that create a session stay checked: a forged sign-in is an attack too.
    if (
      c.req.path.startsWith("/api/") && !SIGN_IN_PATHS.has(c.req.path) &&
      getCookie(c, SESSION_COOKIE) === undefined
    ) return next();
    if (!SAFE_METHODS.has(c.req.method) && getCookie(c, SESSION_COOKIE) !== undefined) {
      // Browsers send `Origin: null` for a form posted under `Referrer-Policy: no-referrer`
      // (ours); `Sec-Fetch-Site` is theirs alone to set, so it vouches for such a request.
      const origin = c.req.header("origin");
      const sameOrigin = (origin !== undefined && origin !== "null" && allowed(origin, c)) ||
        c.req.header("sec-fetch-site") === "same-origin";
      if (!sameOrigin) {
        securityEvent("csrf_refused", { origin: origin ?? null, requestId: c.get("requestId") });
        throw new AppError("forbidden", "This request did not come from Parley's own pages.");
      }
    }
    return csrfCheck(c, next);
  });
  // Every body is bounded, forms as well as JSON (a form's largest honest field is a message).
  // Uploads have their own, larger limit, enforced while they stream (routes/attachments.ts).
  const bounded = limitBody(LIMITS.jsonBodyMaxBytes);
  // An avatar posted by the settings form: the picture's limit plus room for the form around it.
  const avatarForm = limitBody(LIMITS.avatarMaxBytes + LIMITS.jsonBodyMaxBytes);
  app.use("*", function bodyLimitExceptUploads(c, next) {
    if (c.req.method === "POST" && UPLOAD_PATH.test(c.req.path)) return next();
    // Avatars (2 MiB) are bounded while they are read (lib/people/accounts.ts).
    if (c.req.method === "PUT" && AVATAR_PATH.test(c.req.path)) return next();
    if (c.req.method === "POST" && AVATAR_FORM_PATH.test(c.req.path)) return avatarForm(c, next);
    return bounded(c, next);
  });

  app.route("/", healthRoutes(rt));
  app.route("/", metricsRoutes(rt));
  app.route("/api/auth", authRoutes(rt));
  app.route("/api/me", meRoutes(rt));
  app.route("/api/users", avatarRoutes(rt));
  app.route("/api/users", userRoutes(rt));
  app.route("/api", attachmentRoutes(rt));
  app.route("/api/conversations", conversationRoutes(rt));
  app.route("/api/ws", wsRoutes(rt));
  app.route("/", pageRoutes(rt));
  app.route("/chat", chatRoutes(rt));
  app.route("/settings", settingsRoutes(rt));
  app.route("/static", staticRoutes(BUILD_DIR));

  app.notFound((c) => {
    if (c.req.path.startsWith("/api/")) {
      return respond(c, new AppError("not_found", "There is nothing at this address."));
    }
    return c.redirect("/", 302);
  });
  app.onError((err, c) => {
    const e = err instanceof HTTPException ? fromHttpException(err) : toAppError(err);
    if (err instanceof HTTPException && err.status === 403) {
      // Hono's csrf() refusing a cross-site form post.
      securityEvent("csrf_refused", {
        origin: c.req.header("origin") ?? null,
        requestId: c.get("requestId"),
      });
    }
    if (e.code === "internal") {
      log.error("request failed", {
        requestId: c.get("requestId"),
        path: c.req.path,
        error: String(err),
        stack: (err as Error)?.stack,
      });
    }
    return respond(c, e);
  });
  return app;
}

/** An error as the JSON API answers it (errors.ts `apiError`: status, body, Retry-After). */
function respond(c: Context, err: unknown): Response {
  const { status, body, headers } = apiError(err);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json(body, status as 400);
}

const bodyTooLarge = () =>
  new AppError(
    "too_large",
    `The request body is larger than ${LIMITS.jsonBodyMaxBytes / 1024} KiB.`,
  );

/** Hono's own refusals (CSRF, malformed requests) in the contract's error shape. */
function fromHttpException(err: HTTPException): AppError {
  if (err.status === 403) {
    return new AppError("forbidden", "This request did not come from Parley's own pages.");
  }
  if (err.status === 413) return bodyTooLarge();
  if (err.status === 401) return new AppError("unauthorized", "Please sign in.");
  if (err.status < 500) {
    return new AppError("invalid_input", "The request could not be understood.");
  }
  return toAppError(err);
}
