/**
 * The chat's layout: the conversation list, the open conversation (or a prompt to pick one),
 * the connection and notice lines, and the dialogs. Reads the store from context; the Chat
 * island provides it.
 * @module
 */
import { Conversation } from "./Conversation.tsx";
import { useStore } from "./context.ts";
import { GroupInfo } from "./GroupInfo.tsx";
import { NewConversation } from "./NewConversation.tsx";
import { StartDirect } from "./StartDirect.tsx";
import { Sidebar } from "./Sidebar.tsx";

export function ChatShell() {
  const store = useStore();
  const open = store.openId.value;
  const status = store.status.value;
  const notice = store.notice.value;
  return (
    <div
      class="relative flex h-full min-h-0"
      data-connection={status}
      data-conversation-open={open ? "" : undefined}
    >
      <aside
        aria-label="Conversation list"
        class={`${
          open ? "hidden md:flex" : "flex"
        } w-full min-h-0 flex-col border-slate-200 bg-white md:w-80 md:border-r lg:w-96`}
      >
        <Sidebar />
      </aside>
      <main
        class={`${open ? "flex" : "hidden md:flex"} min-h-0 min-w-0 flex-1 flex-col bg-slate-50`}
      >
        {status === "reconnecting"
          ? (
            <p
              role="status"
              data-testid="reconnecting"
              class="bg-amber-100 px-4 py-1.5 text-center text-sm font-medium text-amber-900"
            >
              Reconnecting…
            </p>
          )
          : null}
        {notice
          ? (
            <p role="status" class="bg-sky-50 px-4 py-2 text-center text-sm text-sky-900">
              {notice}
            </p>
          )
          : null}
        {open
          ? <Conversation key={open} id={open} />
          : (
            <div class="flex flex-1 items-center justify-center p-8 text-center">
              {store.conversations.value.length
                ? (
                  <div>
                    <h1 class="text-xl font-semibold">Pick a conversation</h1>
                    <p class="mt-2 text-slate-500">Or start a new one with “New chat”.</p>
                    <StartDirect />
                  </div>
                )
                : <Welcome />}
            </div>
          )}
      </main>
      <NewConversation />
      <GroupInfo />
    </div>
  );
}

/** What a new account sees instead of an empty "Pick a conversation": what to do, and the
 * button that does it (the people search). */
export function Welcome() {
  const store = useStore();
  return (
    <div class="max-w-sm" data-testid="welcome">
      <h1 class="text-xl font-semibold">Welcome to Parley, {store.me.displayName}</h1>
      <p class="mt-2 text-slate-600">
        You have no conversations yet. Find someone by their name or username to start one, or make
        a group.
      </p>
      <button
        type="button"
        data-testid="find-people"
        onClick={() => store.dialog.value = "new"}
        class="mt-5 min-h-11 rounded-lg bg-indigo-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
      >
        Find people
      </button>
      <StartDirect />
    </div>
  );
}
