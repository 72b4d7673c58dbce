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
              <div>
                <h1 class="text-xl font-semibold">Pick a conversation</h1>
                <p class="mt-2 text-slate-500">Or start a new one with “New chat”.</p>
              </div>
            </div>
          )}
      </main>
      <NewConversation />
      <GroupInfo />
    </div>
  );
}
