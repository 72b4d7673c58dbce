import type { ChatProps } from "../client/store.ts";
import Chat from "../islands/Chat.tsx";
import { Avatar } from "./Avatar.tsx";
import { Island } from "./Island.tsx";
import { Layout, Logo } from "./Layout.tsx";

/** The browser bundle that hydrates the chat island. */
export const CHAT_SCRIPT = "/static/js/chat.js";

/** The signed-in page: who you are and sign-out (plain HTML), then the chat island, rendered
 * in full on the server so it reads before any script runs. */
export function ChatPage(props: ChatProps) {
  const { me } = props;
  const open = props.conversations.find((c) => c.id === props.openId);
  return (
    <Layout
      title={open ? `${open.title} · Parley` : "Parley"}
      scripts={[CHAT_SCRIPT]}
      bodyClass="h-full overflow-hidden bg-slate-50 text-slate-900 antialiased"
    >
      <div class="flex h-full flex-col">
        <header
          data-app-header
          class="flex shrink-0 items-center justify-between gap-3 border-b border-slate-200 bg-white px-4 py-2.5"
        >
          <a
            href="/chat"
            class="flex min-h-11 items-center gap-2 rounded-lg focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
          >
            <Logo size={28} />
            <span class="text-lg font-semibold tracking-tight">Parley</span>
          </a>
          <div class="flex min-w-0 items-center gap-3">
            <span class="min-w-0 truncate text-sm text-slate-600">
              <span class="mr-1 hidden sm:inline">Signed in as</span>
              <strong data-testid="me" class="font-medium text-slate-900">{me.displayName}</strong>
              <span class="ml-1 hidden text-slate-500 sm:inline">@{me.username}</span>
            </span>
            <a
              href="/settings"
              data-testid="settings-link"
              class="flex min-h-11 items-center gap-2 rounded-lg px-2 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 md:min-h-0"
            >
              <Avatar name={me.displayName} seed={me.id} url={me.avatarUrl} small />
              <span>Settings</span>
            </a>
            <form method="post" action="/logout">
              <button
                type="submit"
                data-testid="sign-out"
                class="min-h-11 rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium whitespace-nowrap md:min-h-0 text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
              >
                Sign out
              </button>
            </form>
          </div>
        </header>
        <Island name="Chat" props={islandProps(props)} class="min-h-0 flex-1">
          <Chat {...props} />
        </Island>
      </div>
    </Layout>
  );
}

/**
 * The props the island hydrates from: the messages without their bodies, which the markup holds
 * already (client/chat.ts reads them back before hydrating). The bodies are most of a page's
 * weight; sending them twice doubled it. The markup is kept, rather than rendering from props
 * alone, because it is what a browser without script (or before the script) shows.
 */
export function islandProps(props: ChatProps): ChatProps {
  return {
    ...props,
    messages: props.messages.map((m) => ({ ...m, body: "" })),
    bodiesInMarkup: true,
  };
}

/** Shown for a conversation that does not exist or that the user is not in. */
export function ChatNotFound() {
  return (
    <Layout title="Conversation not found · Parley">
      <main class="flex h-full items-center justify-center p-8 text-center">
        <div>
          <h1 class="text-xl font-semibold">Conversation not found</h1>
          <p class="mt-2 text-slate-500">
            It does not exist, or you are not one of its members.
          </p>
          <a
            href="/chat"
            class="mt-6 inline-block rounded-lg bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
          >
            Back to your conversations
          </a>
        </div>
      </main>
    </Layout>
  );
}

/** Leaving a group without script: the same question the island's dialog asks, as a page whose
 * form posts to `/chat/:id/leave` (Cancel goes back to the conversation). */
export function LeavePage(props: { id: string; title: string; owner: boolean; error?: string }) {
  const back = `/chat/${encodeURIComponent(props.id)}`;
  return (
    <Layout title={`Leave ${props.title}? · Parley`}>
      <main class="flex h-full items-center justify-center p-8">
        <form
          method="post"
          action={`${back}/leave`}
          class="max-w-md rounded-2xl border border-slate-200 bg-white p-6 shadow-sm"
          data-testid="leave-page"
        >
          <h1 class="text-xl font-semibold">Leave {props.title}?</h1>
          <p class="mt-2 text-slate-600">
            You will stop getting this group's messages and it will leave your chats. {props.owner
              ? "Ownership passes to the longest-standing admin, or else member. "
              : ""}Only an owner or admin can add you back.
          </p>
          {props.error
            ? <p role="alert" class="mt-3 text-sm font-medium text-rose-700">{props.error}</p>
            : null}
          <div class="mt-6 flex justify-end gap-3">
            <a
              href={back}
              class="min-h-11 rounded-lg border border-slate-300 px-4 py-2 font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            >
              Cancel
            </a>
            <button
              type="submit"
              data-testid="leave-confirm"
              class="min-h-11 rounded-lg bg-rose-700 px-4 py-2 font-medium text-white hover:bg-rose-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-rose-500 focus-visible:ring-offset-2"
            >
              Leave group
            </button>
          </div>
        </form>
      </main>
    </Layout>
  );
}
