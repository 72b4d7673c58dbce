/**
 * The server-rendered pages: sign-up, sign-in, sign-out and the entry redirect. They take
 * plain HTML form posts (CSRF-checked by origin) and answer with HTML or redirects; they never
 * hand out the JSON API's tokens.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { render } from "preact-render-to-string";
import type { VNode } from "preact";
import { AuthForm, type AuthFormProps } from "../components/AuthForm.tsx";
import { Layout } from "../components/Layout.tsx";
import { AppError, pageError, type PageStatus } from "../lib/errors.ts";
import type { Runtime } from "../lib/runtime.ts";
import { fieldErrors, LoginInput, parse, RegisterInput } from "../lib/validate.ts";
import {
  clearSessionCookie,
  clientAddr,
  type Env,
  principalOf,
  setSessionCookie,
} from "./context.ts";

/** Renders a page as a full HTML document. */
export function page(c: Context, vnode: VNode, status: 200 | PageStatus = 200) {
  return c.html("<!doctype html>" + render(vnode), status);
}

function authPage(c: Context, props: AuthFormProps, status: 200 | PageStatus = 200) {
  const title = props.mode === "login" ? "Sign in · Parley" : "Create account · Parley";
  return page(
    c,
    <Layout title={title}>
      <AuthForm {...props} />
    </Layout>,
    status,
  );
}

/** A posted form's string fields; a body that cannot be read is an empty form. */
export async function formFields(c: Context): Promise<Record<string, string>> {
  // A body that is not a readable form is treated as an empty form (a 400 page), not a 500.
  const form = await c.req.parseBody().catch(() => ({}));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) if (typeof v === "string") out[k] = v;
  return out;
}

export function pageRoutes(rt: Runtime) {
  const ttl = rt.config.sessionTtlSec;
  return new Hono<Env>()
    .get("/", async (c) => c.redirect((await principalOf(rt, c)) ? "/chat" : "/login", 302))
    .get("/login", async (c) => {
      if (await principalOf(rt, c)) return c.redirect("/chat", 302);
      return authPage(c, { mode: "login" });
    })
    .get("/register", async (c) => {
      if (await principalOf(rt, c)) return c.redirect("/chat", 302);
      return authPage(c, { mode: "register" });
    })
    .post("/register", async (c) => {
      const fields = await formFields(c);
      const values = { username: fields.username, displayName: fields.displayName };
      const raw = {
        username: fields.username ?? "",
        password: fields.password ?? "",
        displayName: fields.displayName || undefined,
      };
      // Every field's problem at once, not one per attempt.
      const found = fieldErrors(RegisterInput, raw);
      if (found) {
        // Worded and given a status by the same mapper as any other error on a page.
        const each = Object.entries(found).map(([field, message]) =>
          pageError(new AppError("invalid_input", message, { field }))!
        );
        const errors = Object.fromEntries(each.map((e) => [e.field, e.message]));
        return authPage(c, { mode: "register", values, errors }, each[0].status);
      }
      try {
        const input = parse(RegisterInput, raw);
        const grant = await rt.auth.register(
          input,
          clientAddr(c, rt.config.trustProxyHops),
          c.req.header("user-agent"),
        );
        setSessionCookie(c, grant, ttl);
        return c.redirect("/chat", 303);
      } catch (err) {
        const e = pageError(err);
        if (!e) throw err;
        return authPage(
          c,
          { mode: "register", values, errors: { [e.field]: e.message } },
          e.status,
        );
      }
    })
    .post("/login", async (c) => {
      const fields = await formFields(c);
      const values = { username: fields.username };
      try {
        const input = parse(LoginInput, {
          username: fields.username ?? "",
          password: fields.password ?? "",
        });
        const grant = await rt.auth.login(
          input,
          clientAddr(c, rt.config.trustProxyHops),
          c.req.header("user-agent"),
        );
        setSessionCookie(c, grant, ttl);
        return c.redirect("/chat", 303);
      } catch (err) {
        const e = pageError(err);
        if (!e) throw err;
        // Only a malformed field is shown beside it; a refused sign-in is about the whole form.
        const errors = { [e.code === "invalid_input" ? e.field : "form"]: e.message };
        return authPage(c, { mode: "login", values, errors }, e.status);
      }
    })
    .post("/logout", async (c) => {
      const principal = await principalOf(rt, c);
      if (principal) await rt.auth.logout(principal.sessionId);
      clearSessionCookie(c);
      return c.redirect("/login", 303);
    });
}
