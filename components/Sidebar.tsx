import type { Conversation } from "../lib/protocol.ts";
import type { Conv } from "../client/changes.ts";
import { useEffect, useRef, useState } from "preact/hooks";
import { previewText, shortWhen } from "../client/format.ts";
import { systemText } from "../client/system.ts";
import { authorName } from "../client/timeline.ts";
import { Avatar } from "./Avatar.tsx";
import { useStore } from "./context.ts";

/** A plain left click, which the island handles in place; anything else is the browser's. */
export function plainClick(e: MouseEvent): boolean {
  return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey;
}

function Item(props: { c: Conversation; active: boolean }) {
  const store = useStore();
  const { c, active } = props;
  const last = c.lastMessage;
  const preview = !last
    ? "No messages yet"
    : last.kind === "system" && last.system
    ? systemText(last.system, store.me.id, (id) =>
      authorName(id, store.heldThread(c.id)?.members.value ?? null, store.authors.value))
    : (last.senderId === store.me.id ? "You: " : "") + previewText(last);
  const when = last ? shortWhen(last.ts, store.localTime.value) : "";
  // Like Telegram's list: someone typing, else our unsent draft (not in the open one), else
  // the newest message.
  const typing = Object.keys(store.typing.value[c.id] ?? {}).length > 0;
  const draft = active ? "" : store.drafts.value[c.id]?.trim() ?? "";
  const online = c.kind === "direct" ? !!c.peer?.online : undefined;
  return (
    <li class="group relative flex items-stretch">
      <a
        href={`/chat/${encodeURIComponent(c.id)}`}
        aria-current={active ? "page" : undefined}
        data-testid="conversation-item"
        data-id={c.id}
        data-unread={c.unread}
        onClick={(e) => {
          if (!plainClick(e)) return;
          e.preventDefault();
          store.open(c.id);
        }}
        class={`flex min-w-0 flex-1 items-center gap-3 px-4 py-3 outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-500 ${
          active ? "bg-indigo-50" : "hover:bg-slate-50"
        }`}
      >
        <Avatar
          name={c.title}
          seed={c.id}
          online={online}
          group={c.kind === "group"}
          url={c.peer?.avatarUrl}
        />
        <span class="min-w-0 flex-1">
          <span class="flex items-baseline justify-between gap-2">
            <span
              class={`truncate ${c.unread ? "font-semibold" : "font-medium"} text-slate-900`}
              data-testid="conversation-title"
            >
              {c.title}
            </span>
            <span class="shrink-0 text-xs text-slate-600">{when}</span>
          </span>
          <span class="mt-0.5 flex items-center justify-between gap-2">
            <span
              class={`truncate text-sm ${c.unread ? "text-slate-800" : "text-slate-600"}`}
              data-testid="conversation-preview"
            >
              {typing
                ? <span class="text-indigo-700 italic" data-testid="list-typing">typing…</span>
                : draft
                ? (
                  <>
                    <span class="font-medium text-rose-700" data-testid="list-draft">Draft:</span>
                    {" "}
                    {draft}
                  </>
                )
                : preview}
            </span>
            {(c as Conv).muted
              ? (
                <span data-testid="muted-mark" class="shrink-0 text-xs" title="Muted">
                  <span aria-hidden="true">🔕</span>
                  <span class="sr-only">muted</span>
                </span>
              )
              : null}
            {c.unreadMentions > 0
              ? (
                <span
                  data-testid="mention-badge"
                  title="You were mentioned"
                  class="shrink-0 rounded-full bg-amber-700 px-1.5 py-0.5 text-xs font-bold text-white"
                >
                  @<span class="sr-only">mentioned</span>
                </span>
              )
              : null}
            {c.unread > 0
              ? (
                <span
                  data-testid="unread-badge"
                  class="shrink-0 rounded-full bg-indigo-600 px-2 py-0.5 text-xs font-semibold text-white"
                >
                  {c.unread > 99 ? "99+" : c.unread}
                  <span class="sr-only">unread</span>
                </span>
              )
              : null}
          </span>
        </span>
      </a>
      <button
        type="button"
        data-testid="archive-toggle"
        aria-label={`${c.archived ? "Unarchive" : "Archive"} ${c.title}`}
        title={c.archived ? "Move back to your chats" : "Archive: hide until someone writes"}
        onClick={() => store.setArchived(c.id, !c.archived)}
        class="shrink-0 min-h-11 px-2 text-xs font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-500"
      >
        {c.archived ? "Unarchive" : "Archive"}
      </button>
    </li>
  );
}

/** Pixels from the list's end at which the next page is asked for. */
const LOAD_AHEAD_PX = 300;

/** The conversation list, most recent activity first: the main one or the archived one, the
 * next page loaded as it scrolls near its end (and while it does not fill its box). */
export function Sidebar() {
  const store = useStore();
  const archivedView = store.showArchived.value;
  const list = store.conversations.value.filter((c) => c.archived === archivedView);
  const open = store.openId.value;
  const more = archivedView ? store.archivedCursor.value !== null : store.listCursor.value !== null;
  const nav = useRef<HTMLElement>(null);
  const nearEnd = () => {
    const el = nav.current;
    if (el && more && el.scrollTop + el.clientHeight >= el.scrollHeight - LOAD_AHEAD_PX) {
      store.loadMore();
    }
  };
  // After each page (or switch of view): a list shorter than its box cannot be scrolled on.
  useEffect(nearEnd, [list.length, archivedView, more, store.loadingMore.value]);
  return (
    <div class="flex h-full min-h-0 flex-col">
      <div class="flex items-center gap-2 border-b border-slate-200 px-4 py-3">
        <h2 class="mr-auto text-sm font-semibold tracking-wide text-slate-500 uppercase">
          {archivedView ? "Archived" : "Chats"}
        </h2>
        <button
          type="button"
          data-testid="archived-view"
          aria-pressed={archivedView}
          onClick={() => store.showArchivedList(!archivedView)}
          class="min-h-11 whitespace-nowrap rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 md:min-h-0"
        >
          Archived
        </button>
        <ThemeSwitch />
        <button
          type="button"
          data-testid="new-conversation"
          onClick={() => store.dialog.value = "new"}
          class="min-h-11 rounded-lg bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm md:min-h-0 hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
        >
          New chat
        </button>
      </div>
      <NotificationsOffer />
      {list.length === 0 && archivedView
        ? (
          <div class="px-4 py-8 text-center text-sm text-slate-600" data-testid="list-empty">
            {more ? "Loading…" : "No archived conversations."}
          </div>
        )
        : list.length === 0 && !more
        ? (
          <div class="px-4 py-8 text-center text-sm text-slate-600" data-testid="list-empty">
            <p>No conversations yet.</p>
            <button
              type="button"
              onClick={() => store.dialog.value = "new"}
              class="mt-2 min-h-11 rounded-lg px-3 font-medium text-indigo-700 underline underline-offset-2 hover:bg-indigo-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            >
              Find someone to talk to
            </button>
          </div>
        )
        : (
          <nav
            ref={nav}
            onScroll={nearEnd}
            aria-label={archivedView ? "Archived conversations" : "Conversations"}
            aria-busy={store.loadingMore.value}
            class="min-h-0 flex-1 overflow-y-auto"
          >
            <ul class="divide-y divide-slate-100" data-testid="conversation-list">
              {list.map((c) => <Item key={c.id} c={c} active={c.id === open} />)}
            </ul>
            {more
              ? (
                <p class="px-4 py-3 text-center text-sm text-slate-600" data-testid="list-more">
                  {store.loadingMore.value ? "Loading…" : "Scroll for more"}
                </p>
              )
              : null}
          </nav>
        )}
    </div>
  );
}

/** Offers browser notifications once, from a button (never asked on page load); gone once
 * the reader has answered. */
function NotificationsOffer() {
  const store = useStore();
  if (store.notifyPermission.value !== "default") return null;
  return (
    <div
      data-testid="notifications-offer"
      class="flex items-center gap-2 border-b border-slate-200 bg-indigo-50 px-4 py-2 text-sm text-slate-700"
    >
      <span class="flex-1">Get notified of direct messages and mentions.</span>
      <button
        type="button"
        data-testid="enable-notifications"
        onClick={() => store.askNotifications()}
        class="min-h-11 rounded-lg bg-indigo-600 px-3 py-1 text-sm font-medium text-white hover:bg-indigo-700 md:min-h-0 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
      >
        Turn on
      </button>
    </div>
  );
}

type Theme = "system" | "light" | "dark";
const THEME_KEY = "parley:theme";
const NEXT: Record<Theme, Theme> = { system: "dark", dark: "light", light: "system" };
const LABEL: Record<Theme, string> = { system: "Auto", light: "Light", dark: "Dark" };

function applyTheme(theme: Theme): void {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

/** The theme switch: Auto (the system's setting), Dark, Light, as Slack's "sync with OS"
 * choice; kept in this browser's storage. */
export function ThemeSwitch() {
  const [theme, setTheme] = useState<Theme>("system");
  useEffect(() => {
    let saved: string | null = null;
    try {
      saved = localStorage.getItem(THEME_KEY);
    } catch { /* storage blocked: the system's setting it is */ }
    if (saved === "light" || saved === "dark") {
      setTheme(saved);
      applyTheme(saved);
    }
  }, []);
  const pick = (next: Theme) => {
    setTheme(next);
    applyTheme(next);
    try {
      if (next === "system") localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, next);
    } catch { /* not kept: it still applies to this page */ }
  };
  return (
    <button
      type="button"
      data-testid="theme-switch"
      data-theme-choice={theme}
      aria-label={`Theme: ${LABEL[theme]}`}
      onClick={() => pick(NEXT[theme])}
      title="Switch between the system's theme, dark and light"
      class="min-h-11 rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 md:min-h-0"
    >
      {LABEL[theme]}
    </button>
  );
}
