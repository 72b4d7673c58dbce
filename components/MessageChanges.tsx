/**
 * What message changes add to a message in the list (issue 11): the quote of the message it
 * replies to, its reactions with counts and who reacted, the "edited" mark, and the actions on
 * it (react, reply, edit, delete) with the reaction picker. components/MessageList.tsx places
 * them around the bubble.
 * @module
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { excerptOf, isOneEmoji, type Msg, quoteText } from "../client/changes.ts";
import { fullWhen } from "../client/format.ts";
import { useStore } from "./context.ts";

/** The picker's common reactions, as Slack and WhatsApp offer first. */
export const COMMON_EMOJI = ["👍", "❤️", "😂", "😮", "😢", "🎉"];

// 44 px on phones (touch targets), smaller beside a mouse.
const iconButton =
  "flex h-11 min-w-11 md:h-8 md:min-w-8 items-center justify-center rounded-lg px-1.5 text-sm text-slate-600 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

/** A member's display name by id, for quotes and reaction lists. */
export function useNames(convId: string): (id: string) => string {
  const store = useStore();
  const members = store.thread(convId).members.value ?? [];
  const conv = store.conversation(convId);
  return (id: string) =>
    id === store.me.id ? "You" : members.find((m) => m.id === id)?.displayName ??
      (conv?.peer?.id === id ? conv.peer.displayName : "Former member");
}

/** The quote above a reply: who wrote the original and its text (or that it was deleted);
 * pressing it shows the original, loading earlier pages if it takes that. */
export function ReplyQuote(props: { convId: string; message: Msg; mine: boolean }) {
  const store = useStore();
  const name = useNames(props.convId);
  const reply = props.message.replyTo!;
  const original = store.thread(props.convId).messages.value.find((m) => m.seq === reply.seq);
  const text = quoteText(reply, original);
  const gone = original ? original.deleted : !reply.excerpt;
  return (
    <button
      type="button"
      data-testid="reply-quote"
      data-reply-seq={reply.seq}
      onClick={() => store.showMessage(props.convId, reply.seq)}
      class={`mb-0.5 block min-h-11 max-w-full rounded-xl border-l-4 px-3 py-1.5 text-left text-sm ${
        props.mine
          ? "border-indigo-300 bg-indigo-50 text-slate-700"
          : "border-slate-300 bg-slate-100 text-slate-700"
      } hover:bg-slate-200/60 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500`}
    >
      <span class="sr-only">Show the message this replies to:</span>
      <span class="block text-xs font-semibold">{name(reply.senderId)}</span>
      <span class={`line-clamp-2 [overflow-wrap:anywhere] ${gone ? "italic" : ""}`}>{text}</span>
    </button>
  );
}

/** "edited", with the time of the edit on hover. */
export function Edited(props: { ts: number }) {
  const store = useStore();
  const when = fullWhen(props.ts, store.localTime.value);
  return (
    <span data-testid="message-edited" title={`Edited ${when}`}>
      · edited<span class="sr-only">{` ${when}`}</span>
    </span>
  );
}

/** The reactions under a message: each emoji with its count, pressed when one is ours (a
 * press toggles ours). Who reacted shows on hover, and on a long press on touch screens. */
export function Reactions(props: { convId: string; message: Msg }) {
  const store = useStore();
  const name = useNames(props.convId);
  const [who, setWho] = useState<string | null>(null);
  const press = useRef<ReturnType<typeof setTimeout> | null>(null);
  const list = props.message.reactions ?? [];
  if (!list.length) return null;
  const names = (userIds: string[], count: number) => {
    const shown = userIds.map(name);
    const more = count - shown.length;
    return shown.join(", ") + (more > 0 ? ` and ${more} more` : "");
  };
  return (
    <div class="mt-0.5 flex flex-wrap gap-1" data-testid="reactions">
      {list.map((r) => {
        const mine = r.userIds.includes(store.me.id);
        const label = `${r.emoji} ${r.count}: ${names(r.userIds, r.count)}`;
        return (
          <button
            key={r.emoji}
            type="button"
            data-testid="reaction"
            data-emoji={r.emoji}
            aria-pressed={mine ? "true" : "false"}
            aria-label={`${r.emoji} ${r.count}, by ${names(r.userIds, r.count)}`}
            title={label}
            onClick={() => {
              if (who) return setWho(null);
              store.react(props.convId, props.message, r.emoji, !mine);
            }}
            onPointerDown={(e) => {
              if (e.pointerType !== "touch") return;
              press.current = setTimeout(() => setWho(label), 500);
            }}
            onPointerUp={() => press.current && clearTimeout(press.current)}
            onPointerLeave={() => press.current && clearTimeout(press.current)}
            onContextMenu={(e) => who && e.preventDefault()}
            class={`flex min-h-11 min-w-11 md:min-h-7 md:min-w-0 items-center justify-center gap-1 rounded-full border px-2 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
              mine
                ? "border-indigo-400 bg-indigo-50 text-indigo-800"
                : "border-slate-200 bg-white text-slate-700 hover:bg-slate-100"
            }`}
          >
            <span aria-hidden="true">{r.emoji}</span>
            <span aria-hidden="true" data-testid="reaction-count" class="text-xs font-medium">
              {r.count}
            </span>
          </button>
        );
      })}
      {who
        ? (
          <span role="status" class="w-full px-1 text-xs text-slate-600">
            {who}
          </span>
        )
        : null}
    </div>
  );
}

/** The picker: the common reactions, and a box that takes any one emoji. */
function ReactionPicker(props: { onPick: (emoji: string) => void; onClose: () => void }) {
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  const pick = (e: string) => {
    props.onPick(e);
    props.onClose();
  };
  return (
    <div
      data-testid="reaction-picker"
      role="group"
      aria-label="Add a reaction"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          props.onClose();
        }
      }}
      class="absolute bottom-full z-20 mb-1 w-64 rounded-xl border border-slate-200 bg-white p-2 shadow-lg"
    >
      <div class="flex flex-wrap gap-1">
        {COMMON_EMOJI.map((e, i) => (
          <button
            key={e}
            type="button"
            ref={i === 0 ? first : undefined}
            aria-label={`React with ${e}`}
            data-testid="pick-emoji"
            onClick={() => pick(e)}
            class="h-11 w-11 md:h-9 md:w-9 rounded-lg text-xl hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
          >
            {e}
          </button>
        ))}
      </div>
      <form
        class="mt-2 flex gap-1"
        onSubmit={(e) => {
          e.preventDefault();
          if (!isOneEmoji(text)) return setError("Enter one emoji.");
          pick(text.trim());
        }}
      >
        <label class="sr-only" for="any-emoji">Any emoji</label>
        <input
          id="any-emoji"
          data-testid="any-emoji"
          value={text}
          placeholder="Any emoji"
          autocomplete="off"
          onInput={(e) => {
            setText(e.currentTarget.value);
            setError("");
          }}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? "any-emoji-error" : undefined}
          class="min-h-11 md:min-h-0 min-w-0 flex-1 rounded-lg border border-slate-300 bg-white px-2 py-1 text-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/40"
        />
        <button
          type="submit"
          class="min-h-11 md:min-h-0 rounded-lg bg-indigo-600 px-2.5 py-1 text-sm font-medium text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
        >
          Add
        </button>
      </form>
      {error
        ? <p id="any-emoji-error" role="alert" class="mt-1 text-xs text-rose-700">{error}</p>
        : null}
    </div>
  );
}

/** The actions on a message: react, reply, and for those allowed, edit and delete. Shown
 * when the message is hovered or anything in it has the keyboard focus; on a phone, once the
 * message is tapped. */
export function MessageActions(
  props: {
    convId: string;
    message: Msg;
    mine: boolean;
    canDelete: boolean;
    onDelete(): void;
    /** On a phone the actions take room beside the bubble: shown once it is tapped. */
    shown: boolean;
  },
) {
  const store = useStore();
  const [picking, setPicking] = useState(false);
  const m = props.message;
  const t = store.thread(props.convId);
  return (
    <div
      role="toolbar"
      aria-label="Message actions"
      data-testid="message-actions"
      class={`relative ${
        props.shown ? "flex" : "hidden"
      } md:flex items-center self-center md:opacity-0 md:group-hover:opacity-100 md:focus-within:opacity-100 ${
        picking ? "md:opacity-100" : ""
      } ${props.mine ? "order-first mr-1" : "ml-1"}`}
    >
      <button
        type="button"
        class={iconButton}
        aria-label="Add reaction"
        title="Add reaction"
        aria-expanded={picking ? "true" : "false"}
        data-testid="react"
        onClick={() => setPicking(!picking)}
      >
        <span aria-hidden="true">☺</span>
      </button>
      <button
        type="button"
        class={iconButton}
        aria-label="Reply"
        title="Reply"
        data-testid="reply"
        onClick={() => {
          t.editing.value = null;
          t.replying.value = m;
          document.getElementById("composer")?.focus();
        }}
      >
        <span aria-hidden="true">↩</span>
      </button>
      {props.mine && m.kind !== "system"
        ? (
          <button
            type="button"
            class={iconButton}
            aria-label="Edit"
            title="Edit"
            data-testid="edit"
            onClick={() => {
              t.replying.value = null;
              t.editing.value = m;
              document.getElementById("composer")?.focus();
            }}
          >
            <span aria-hidden="true">✎</span>
          </button>
        )
        : null}
      {props.canDelete
        ? (
          <button
            type="button"
            class={iconButton}
            aria-label="Delete"
            title="Delete"
            data-testid="delete"
            onClick={props.onDelete}
          >
            <span aria-hidden="true">🗑</span>
          </button>
        )
        : null}
      {picking
        ? (
          <ReactionPicker
            onPick={(e) => {
              const had = m.reactions?.find((r) => r.emoji === e)?.userIds.includes(store.me.id);
              store.react(props.convId, m, e, !had);
            }}
            onClose={() => setPicking(false)}
          />
        )
        : null}
    </div>
  );
}

/** The line above the composer while replying to or editing a message, with its cancel. */
export function ComposerContext(props: { convId: string }) {
  const store = useStore();
  const name = useNames(props.convId);
  const t = store.thread(props.convId);
  const editing = t.editing.value;
  const replying = t.replying.value;
  const m = editing ?? replying;
  if (!m) return null;
  const cancel = () => {
    t.editing.value = null;
    t.replying.value = null;
    document.getElementById("composer")?.focus();
  };
  return (
    <div
      data-testid={editing ? "editing-bar" : "reply-bar"}
      class="flex items-center gap-2 border-t border-slate-200 bg-white px-3 pt-2 text-sm"
    >
      <div class="min-w-0 flex-1 border-l-4 border-indigo-400 pl-2">
        <p class="text-xs font-semibold text-indigo-700">
          {editing ? "Editing message" : `Replying to ${name(m.senderId)}`}
        </p>
        <p class="truncate text-slate-600">{m.deleted ? "Message deleted" : excerptOf(m)}</p>
      </div>
      <button
        type="button"
        data-testid={editing ? "cancel-edit" : "cancel-reply"}
        aria-label={editing ? "Cancel editing" : "Cancel reply"}
        onClick={cancel}
        class="flex h-11 w-11 md:h-9 md:w-9 items-center justify-center rounded-lg text-lg text-slate-500 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
      >
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}
