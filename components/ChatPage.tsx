import type { Conversation, User } from "../lib/protocol.ts";
import { Layout, Logo } from "./Layout.tsx";

/** The signed-in home: who you are, your conversations, and sign-out. */
export function ChatPage(props: { user: User; conversations: Conversation[] }) {
  const { user, conversations } = props;
  return (
    <Layout title="Parley">
      <div class="flex h-full flex-col">
        <header class="flex items-center justify-between border-b border-slate-200 bg-white px-4 py-3">
          <div class="flex items-center gap-2">
            <Logo size={28} />
            <span class="text-lg font-semibold tracking-tight">Parley</span>
          </div>
          <div class="flex items-center gap-3">
            <span class="text-sm text-slate-600">
              Signed in as{" "}
              <strong data-testid="me" class="font-medium text-slate-900">
                {user.displayName}
              </strong>
              <span class="text-slate-400">@{user.username}</span>
            </span>
            <form method="post" action="/logout">
              <button
                type="submit"
                class="rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
              >
                Sign out
              </button>
            </form>
          </div>
        </header>
        <main class="flex flex-1 items-center justify-center p-8 text-center">
          {conversations.length === 0
            ? (
              <div>
                <h1 class="text-xl font-semibold">No conversations yet</h1>
                <p class="mt-2 text-slate-500">Start one to say hello.</p>
              </div>
            )
            : (
              <ul class="w-full max-w-md divide-y divide-slate-200 rounded-xl border border-slate-200 bg-white text-left">
                {conversations.map((c) => (
                  <li key={c.id} class="px-4 py-3">
                    <div class="font-medium">{c.title}</div>
                    <div class="truncate text-sm text-slate-500">
                      {c.lastMessage?.body ?? "No messages yet"}
                    </div>
                  </li>
                ))}
              </ul>
            )}
        </main>
      </div>
    </Layout>
  );
}
