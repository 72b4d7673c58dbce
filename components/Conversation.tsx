import { useEffect, useState } from "preact/hooks";
import type { Conv } from "../client/changes.ts";
import { countOf, lastSeenWhen } from "../client/format.ts";
import { ImageViewer } from "./Attachment.tsx";
import { Avatar } from "./Avatar.tsx";
import { Composer } from "./Composer.tsx";
import { useStore } from "./context.ts";
import { MessageList } from "./MessageList.tsx";
import { plainClick } from "./Sidebar.tsx";
import { setBlocked } from "../client/api.ts";

function Typing(props: { id: string }) {
  const store = useStore();
  const conv = store.conversation(props.id);
  const who = Object.keys(store.typing.value[props.id] ?? {});
  const members = store.thread(props.id).members.value ?? [];
  const name = (id: string) =>
    members.find((m) => m.id === id)?.displayName ??
      (conv?.peer?.id === id ? conv.peer.displayName : "Someone");
  const names = who.map(name);
  const text = names.length === 0
    ? ""
    : names.length === 1
    ? `${names[0]} is typing…`
    : names.length === 2
    ? `${names[0]} and ${names[1]} are typing…`
    : "Several people are typing…";
  return (
    <p aria-live="polite" data-testid="typing" class="h-5 px-4 text-xs text-slate-500 italic">
      {text}
    </p>
  );
}

/** Mutes the conversation for us: no notifications from it, and it leaves the title's count. */
function MuteButton(props: { id: string }) {
  const store = useStore();
  const muted = !!(store.conversation(props.id) as Conv | undefined)?.muted;
  return (
    <button
      type="button"
      data-testid="mute"
      aria-pressed={muted ? "true" : "false"}
      title={muted ? "Muted: no notifications from this conversation" : "Mute notifications"}
      onClick={() => store.mute(props.id, !muted)}
      class={`min-h-11 shrink-0 rounded-lg border px-3 py-1.5 text-sm font-medium md:min-h-0 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
        muted
          ? "border-amber-400 bg-amber-50 text-amber-900"
          : "border-slate-300 text-slate-700 hover:bg-slate-100"
      }`}
    >
      <span aria-hidden="true">{muted ? "🔕 " : "🔔 "}</span>Mute
    </button>
  );
}

/** The open conversation: its header, messages, typing line and composer. */
export function Conversation(props: { id: string }) {
  const store = useStore();
  const conv = store.conversation(props.id);
  const members = store.thread(props.id).members.value;
  const [dragging, setDragging] = useState(false);
  const [live, setLive] = useState(false);
  useEffect(() => setLive(true), []);
  const viewing = store.viewer.value;
  if (!conv) return null;
  const local = store.localTime.value;
  const subtitle = conv.kind === "group"
    ? members ? countOf(members.length, "member", "members") : "Group"
    : conv.peer?.online
    ? "Online"
    : conv.peer?.lastSeen
    ? `Last seen ${lastSeenWhen(conv.peer.lastSeen, local)}`
    : "Offline";
  return (
    <div
      class="relative flex h-full min-h-0 flex-col"
      data-testid="conversation"
      data-id={conv.id}
      onDragOver={(e) => {
        if (!e.dataTransfer?.types.includes("Files")) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        if (!dragging) setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget.contains(e.relatedTarget as Node | null)) return;
        setDragging(false);
      }}
      onDrop={(e) => {
        const files = [...(e.dataTransfer?.files ?? [])];
        setDragging(false);
        if (!files.length) return;
        e.preventDefault();
        store.attach(conv.id, files);
      }}
    >
      <header class="flex items-center gap-3 border-b border-slate-200 bg-white px-3 py-2.5">
        <a
          href="/chat"
          class="-ml-1 flex h-11 w-11 shrink-0 items-center justify-center rounded-lg text-xl text-slate-600 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 md:hidden"
          onClick={(e) => {
            if (!plainClick(e)) return;
            e.preventDefault();
            store.open(null);
          }}
        >
          <span aria-hidden="true">←</span>
          <span class="sr-only">Back to conversations</span>
        </a>
        <Avatar
          name={conv.title}
          seed={conv.id}
          group={conv.kind === "group"}
          online={conv.kind === "direct" ? !!conv.peer?.online : undefined}
          url={conv.peer?.avatarUrl}
        />
        <div class="min-w-0 flex-1">
          <h1 class="truncate font-semibold text-slate-900" data-testid="conversation-heading">
            {conv.title}
          </h1>
          <p class="truncate text-xs text-slate-500" data-testid="conversation-subtitle">
            {subtitle}
          </p>
        </div>
        <MuteButton id={conv.id} />
        {conv.kind === "direct" && conv.peer ? <BlockButton userId={conv.peer.id} /> : null}
        {conv.kind === "group" && !live
          ? (
            // Before the script runs (or without it) the dialog cannot open: leaving is a page.
            <a
              href={`/chat/${encodeURIComponent(conv.id)}/leave`}
              data-testid="leave-link"
              class="flex min-h-11 shrink-0 items-center rounded-lg border border-rose-300 px-3 py-1.5 text-sm font-medium text-rose-700 hover:bg-rose-50 md:min-h-0 focus:outline-none focus-visible:ring-2 focus-visible:ring-rose-500"
            >
              Leave group
            </a>
          )
          : conv.kind === "group"
          ? (
            <button
              type="button"
              data-testid="group-info"
              onClick={() => store.dialog.value = "info"}
              class="min-h-11 shrink-0 rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 md:min-h-0 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            >
              Group info
            </button>
          )
          : null}
      </header>
      <MessageList id={conv.id} />
      <Typing id={conv.id} />
      <Composer id={conv.id} />
      {dragging
        ? (
          <div
            data-testid="drop-zone"
            class="pointer-events-none absolute inset-2 flex items-center justify-center rounded-2xl border-2 border-dashed border-indigo-400 bg-indigo-50/80 text-lg font-medium text-indigo-700"
          >
            Drop files to send them
          </div>
        )
        : null}
      {viewing
        ? <ImageViewer attachment={viewing} onClose={() => store.viewer.value = null} />
        : null}
    </div>
  );
}

/** Blocks or unblocks a direct conversation's peer (they can then no longer write here). */
function BlockButton(props: { userId: string }) {
  const store = useStore();
  const blocked = store.blocked.value.has(props.userId);
  const toggle = async () => {
    try {
      await setBlocked(props.userId, !blocked);
      const next = new Set(store.blocked.value);
      if (blocked) next.delete(props.userId);
      else next.add(props.userId);
      store.blocked.value = next;
    } catch (err) {
      store.notice.value = err instanceof Error ? err.message : "That did not work.";
    }
  };
  return (
    <button
      type="button"
      data-testid="block-user"
      aria-pressed={blocked}
      onClick={toggle}
      class="min-h-11 shrink-0 rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 md:min-h-0 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
    >
      {blocked ? "Unblock" : "Block"}
    </button>
  );
}
