/**
 * The settings page (`/settings`) and its forms: profile, avatar, password, sessions, blocks,
 * account deletion. Plain HTML form posts (CSRF-checked by origin, like the sign-in forms) that
 * call the same account service as `/api/me`, then redirect back with a notice (post, redirect,
 * get), or show the page again with the refusal beside its field.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { Layout } from "../components/Layout.tsx";
import { Settings, type SettingsProps } from "../components/Settings.tsx";
import { AppError, pageError, type PageStatus } from "../lib/errors.ts";
import type { Principal } from "../lib/auth/service.ts";
import type { Runtime } from "../lib/runtime.ts";
import { getUserByName } from "../lib/store/users.ts";
import { DeleteAccountInput, parse, PasswordChangeInput, ProfileInput } from "../lib/validate.ts";
import { clearSessionCookie, clientAddr, type Env, principalOf } from "./context.ts";
import { formFields, page } from "./pages.tsx";

/** The form posts whose body may be an avatar (2 MiB), bounded separately in routes/mod.ts. */
export const AVATAR_FORM_PATH = /^\/settings\/avatar\/?$/;

/** What a redirect's `?done=` says on the page after it. */
const DONE: Record<string, string> = {
  profile: "Your name was saved.",
  avatar: "Your picture was saved.",
  "avatar-removed": "Your picture was removed.",
  password: "Your password was changed. Every other device was signed out.",
  session: "That device was signed out.",
  sessions: "Every other device was signed out.",
  blocked: "Blocked.",
  unblocked: "Unblocked.",
};

export function settingsRoutes(rt: Runtime) {
  const accounts = rt.accounts;
  const addr = (c: Context<Env>) => clientAddr(c, rt.config.trustProxyHops);

  const show = async (
    c: Context<Env>,
    principal: Principal,
    extra: Pick<SettingsProps, "notice" | "errors"> = {},
    status: 200 | PageStatus = 200,
  ) => {
    const me = principal.user;
    const [sessions, blocked] = await Promise.all([
      accounts.sessions(me.id, principal.sessionId),
      accounts.blocked(me.id),
    ]);
    c.header("Cache-Control", "no-store");
    return page(
      c,
      <Layout title="Settings · Parley" scripts={["/static/js/settings.js"]}>
        <Settings me={me} sessions={sessions} blocked={blocked} {...extra} />
      </Layout>,
      status,
    );
  };

  /**
   * Runs a form's action for a signed-in caller: success redirects to `/settings?done=KEY`; a
   * refusal shows the page again, beside its field (a wrong password is a 400 page here, not
   * the API's 403, which a page would show as "not found").
   */
  const action = (
    done: string,
    run: (c: Context<Env>, p: Principal, f: Record<string, string>) => Promise<Response | void>,
  ) =>
  async (c: Context<Env>) => {
    const principal = await principalOf(rt, c);
    if (!principal) return c.redirect("/login", 303);
    const fields = c.req.path.match(AVATAR_FORM_PATH) ? {} : await formFields(c);
    try {
      const res = await run(c, principal, fields);
      if (res) return res;
    } catch (err) {
      const e = pageError(err);
      if (!e) throw err;
      const beside = e.field !== "form";
      const status: PageStatus = e.code === "forbidden" || (beside && e.code === "not_found")
        ? 400
        : e.status;
      const refreshed = (await principalOf(rt, c)) ?? principal;
      return show(
        c,
        refreshed,
        {
          notice: { kind: "error", text: e.message },
          errors: e.field === "form" ? {} : { [e.field]: e.message },
        },
        status,
      );
    }
    return c.redirect(`/settings?done=${done}`, 303);
  };

  return new Hono<Env>()
    .get("/", async (c) => {
      const principal = await principalOf(rt, c);
      if (!principal) return c.redirect("/login", 302);
      const text = DONE[c.req.query("done") ?? ""];
      return show(c, principal, text ? { notice: { kind: "ok", text } } : {});
    })
    .post(
      "/profile",
      action("profile", async (_c, p, f) => {
        const { displayName } = parse(ProfileInput, { displayName: f.displayName ?? "" });
        await accounts.rename(p.user.id, displayName);
      }),
    )
    .post(
      "/avatar",
      action("avatar", async (c, p) => {
        const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
        const file = form.avatar;
        if (!(file instanceof File) || file.size === 0) {
          throw new AppError("invalid_input", "Choose a picture to upload.", { field: "avatar" });
        }
        await accounts.setAvatar(p.user.id, file.stream(), String(file.size));
      }),
    )
    .post(
      "/avatar/remove",
      action("avatar-removed", async (_c, p) => {
        await accounts.clearAvatar(p.user.id);
      }),
    )
    .post(
      "/password",
      action("password", async (c, p, f) => {
        const input = parse(PasswordChangeInput, {
          currentPassword: f.currentPassword ?? "",
          newPassword: f.newPassword ?? "",
        });
        await accounts.changePassword(p.user.id, p.sessionId, input, addr(c));
      }),
    )
    .post(
      "/sessions/revoke-others",
      action("sessions", async (_c, p) => {
        await accounts.revokeOthers(p.user.id, p.sessionId);
      }),
    )
    .post(
      "/sessions/:id/revoke",
      action("session", async (c, p) => {
        const id = c.req.param("id") ?? "";
        await accounts.revokeSession(p.user.id, id);
        if (id === p.sessionId) {
          clearSessionCookie(c);
          return c.redirect("/login", 303);
        }
      }),
    )
    .post(
      "/blocks",
      action("blocked", async (_c, p, f) => {
        const name = (f.username ?? "").trim();
        const other = name ? await getUserByName(rt.kv, name) : null;
        if (!other) {
          throw new AppError("not_found", `There is no user "${name}".`, { field: "username" });
        }
        await accounts.block(p.user.id, other.id);
      }),
    )
    .post(
      "/blocks/:id/remove",
      action("unblocked", async (c, p) => {
        await accounts.unblock(p.user.id, c.req.param("id") ?? "");
      }),
    )
    .post(
      "/delete",
      action("deleted", async (c, p, f) => {
        const { password } = parse(DeleteAccountInput, { password: f.password ?? "" });
        await accounts.deleteAccount(p.user.id, password, addr(c));
        clearSessionCookie(c);
        return c.redirect("/login?deleted=1", 303);
      }),
    );
}
