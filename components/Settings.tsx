import type { SessionInfo, User } from "../lib/protocol.ts";
import { LIMITS } from "../lib/protocol.ts";
import { Avatar } from "./Avatar.tsx";
import { Logo } from "./Layout.tsx";

export interface SettingsProps {
  me: User;
  sessions: SessionInfo[];
  blocked: User[];
  /** One line at the top: what the last form did, or why it was refused. */
  notice?: { kind: "ok" | "error"; text: string };
  /** Refusals shown beside a form's field, by field name. */
  errors?: Record<string, string>;
}

const BUTTON =
  "min-h-11 rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 md:min-h-0";
const QUIET =
  "min-h-11 rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 md:min-h-0";
const DANGER =
  "min-h-11 rounded-lg bg-red-600 px-4 py-2 text-sm font-medium text-white hover:bg-red-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 md:min-h-0";
const INPUT =
  "mt-1 block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-slate-900 shadow-sm outline-none focus:ring-2 focus:ring-indigo-500";

function Section(props: { id: string; title: string; children: preact.ComponentChildren }) {
  return (
    <section
      aria-labelledby={`${props.id}-title`}
      class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm"
      data-testid={`settings-${props.id}`}
    >
      <h2 id={`${props.id}-title`} class="mb-3 text-lg font-semibold">{props.title}</h2>
      {props.children}
    </section>
  );
}

function Field(
  props: {
    name: string;
    label: string;
    type?: string;
    value?: string;
    error?: string;
    autocomplete: string;
    maxLength?: number;
  },
) {
  const id = `s-${props.name}`;
  return (
    <div>
      <label for={id} class="block text-sm font-medium text-slate-700">{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        autocomplete={props.autocomplete}
        maxLength={props.maxLength}
        required
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        class={INPUT}
      />
      {props.error
        ? <p id={`${id}-error`} class="mt-1 text-sm text-red-600">{props.error}</p>
        : null}
    </div>
  );
}

/** When, as people say it: "Today 14:05", or the date. */
function when(ts: number): string {
  const d = new Date(ts);
  return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/**
 * The settings page: profile, avatar, password, sessions, blocked people, export and account
 * deletion. Every part is a plain form that works without JavaScript; `client/settings.ts`
 * only adds the square crop before an avatar upload.
 */
export function Settings(props: SettingsProps) {
  const { me } = props;
  const errors = props.errors ?? {};
  return (
    <main class="mx-auto max-w-2xl space-y-5 px-4 py-8">
      <header class="flex items-center justify-between gap-3">
        <div class="flex items-center gap-3">
          <Logo size={32} />
          <h1 class="text-2xl font-semibold tracking-tight">Settings</h1>
        </div>
        <a href="/chat" class={QUIET}>Back to chats</a>
      </header>
      {props.notice
        ? (
          <p
            role={props.notice.kind === "error" ? "alert" : "status"}
            data-testid="settings-notice"
            class={`rounded-lg px-4 py-2 text-sm ${
              props.notice.kind === "error"
                ? "bg-red-50 text-red-700"
                : "bg-emerald-50 text-emerald-800"
            }`}
          >
            {props.notice.text}
          </p>
        )
        : null}

      <Section id="profile" title="Profile">
        <div class="mb-4 flex items-center gap-4">
          <Avatar name={me.displayName} seed={me.id} url={me.avatarUrl} large />
          <div>
            <p class="font-medium" data-testid="settings-name">{me.displayName}</p>
            <p class="text-sm text-slate-500">@{me.username}</p>
          </div>
        </div>
        <form method="post" action="/settings/profile" class="space-y-3">
          <Field
            name="displayName"
            label="Display name"
            value={me.displayName}
            error={errors.displayName}
            autocomplete="name"
            maxLength={LIMITS.displayNameMax}
          />
          <button type="submit" class={BUTTON}>Save name</button>
        </form>
        <form
          method="post"
          action="/settings/avatar"
          enctype="multipart/form-data"
          class="mt-5 space-y-3"
          data-avatar-form
        >
          <div>
            <label for="s-avatar" class="block text-sm font-medium text-slate-700">
              Picture (PNG, JPEG or WebP, up to 2 MiB; cropped to a square)
            </label>
            <input
              id="s-avatar"
              name="avatar"
              type="file"
              accept="image/png,image/jpeg,image/webp"
              required
              aria-describedby={errors.avatar ? "s-avatar-error" : undefined}
              class="mt-1 block w-full text-sm"
            />
            {errors.avatar
              ? <p id="s-avatar-error" class="mt-1 text-sm text-red-600">{errors.avatar}</p>
              : null}
          </div>
          <div class="flex gap-2">
            <button type="submit" class={BUTTON}>Upload picture</button>
          </div>
        </form>
        {me.avatarUrl
          ? (
            <form method="post" action="/settings/avatar/remove" class="mt-2">
              <button type="submit" class={QUIET}>Remove picture</button>
            </form>
          )
          : null}
      </Section>

      <Section id="password" title="Password">
        <form method="post" action="/settings/password" class="space-y-3">
          <Field
            name="currentPassword"
            label="Current password"
            type="password"
            error={errors.currentPassword}
            autocomplete="current-password"
          />
          <Field
            name="newPassword"
            label={`New password (at least ${LIMITS.passwordMin} characters)`}
            type="password"
            error={errors.newPassword}
            autocomplete="new-password"
          />
          <p class="text-sm text-slate-500">Changing it signs out every other device.</p>
          <button type="submit" class={BUTTON}>Change password</button>
        </form>
      </Section>

      <Section id="sessions" title="Where you are signed in">
        <ul class="divide-y divide-slate-100" data-testid="session-list">
          {props.sessions.map((s) => (
            <li
              key={s.id}
              class="flex items-center justify-between gap-3 py-2"
              data-testid="session"
              data-session-id={s.id}
              data-current={String(s.current)}
            >
              <div>
                <p class="font-medium">
                  {s.device}
                  {s.current
                    ? (
                      <span class="ml-2 rounded bg-emerald-100 px-1.5 py-0.5 text-xs text-emerald-800">
                        This device
                      </span>
                    )
                    : null}
                </p>
                <p class="text-xs text-slate-500">
                  Signed in {when(s.createdTs)} · last used {when(s.lastUsedTs)}
                </p>
              </div>
              {s.current ? null : (
                <form
                  method="post"
                  action={`/settings/sessions/${encodeURIComponent(s.id)}/revoke`}
                >
                  <button type="submit" class={QUIET} aria-label={`Sign out ${s.device}`}>
                    Sign out
                  </button>
                </form>
              )}
            </li>
          ))}
        </ul>
        {props.sessions.some((s) => !s.current)
          ? (
            <form method="post" action="/settings/sessions/revoke-others" class="mt-3">
              <button type="submit" class={QUIET}>Sign out all other devices</button>
            </form>
          )
          : null}
      </Section>

      <Section id="blocks" title="Blocked people">
        {props.blocked.length === 0
          ? <p class="text-sm text-slate-500">You have not blocked anyone.</p>
          : (
            <ul class="divide-y divide-slate-100" data-testid="blocked-list">
              {props.blocked.map((u) => (
                <li key={u.id} class="flex items-center justify-between gap-3 py-2">
                  <span class="flex items-center gap-2">
                    <Avatar name={u.displayName} seed={u.id} url={u.avatarUrl} small />
                    <span>
                      {u.displayName} <span class="text-slate-500">@{u.username}</span>
                    </span>
                  </span>
                  <form
                    method="post"
                    action={`/settings/blocks/${encodeURIComponent(u.id)}/remove`}
                  >
                    <button type="submit" class={QUIET}>Unblock</button>
                  </form>
                </li>
              ))}
            </ul>
          )}
        <form method="post" action="/settings/blocks" class="mt-3 flex items-end gap-2">
          <div class="flex-1">
            <Field
              name="username"
              label="Block someone by username"
              error={errors.username}
              autocomplete="off"
            />
          </div>
          <button type="submit" class={QUIET}>Block</button>
        </form>
        <p class="mt-2 text-sm text-slate-500">
          Someone you block cannot message you directly, add you to a group, or see when you are
          online or typing. In groups, their messages are folded away for you.
        </p>
      </Section>

      <Section id="export" title="Your data">
        <p class="mb-3 text-sm text-slate-600">
          Download your profile, your conversations and every message you sent, as JSON lines.
        </p>
        <a href="/api/me/export" class={QUIET} download>Download my data</a>
      </Section>

      <Section id="delete" title="Delete account">
        <p class="mb-3 text-sm text-slate-600">
          This signs you out everywhere and removes you from every group. Your messages stay, shown
          as from a deleted account. Your username becomes free for anyone.
        </p>
        <form method="post" action="/settings/delete" class="space-y-3">
          <Field
            name="password"
            label="Your password, to confirm"
            type="password"
            error={errors.password}
            autocomplete="current-password"
          />
          <button type="submit" class={DANGER}>Delete my account</button>
        </form>
      </Section>
    </main>
  );
}
