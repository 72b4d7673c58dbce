import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { LIMITS } from "../lib/protocol.ts";
import { useStore } from "./context.ts";

const LIMIT = LIMITS.bodyMaxCodePoints;
/** The counter shows from here on, as Slack's does near its limit. */
const COUNT_FROM = LIMIT - 200;

const draftKey = (id: string) => `parley:draft:${id}`;

function loadDraft(id: string): string {
  try {
    return sessionStorage.getItem(draftKey(id)) ?? "";
  } catch {
    return "";
  }
}

function saveDraft(id: string, text: string): void {
  try {
    if (text) sessionStorage.setItem(draftKey(id), text);
    else sessionStorage.removeItem(draftKey(id));
  } catch { /* storage full or blocked: the draft just isn't kept */ }
}

/** Whether the primary pointer is a finger: there Enter makes a new line. */
function touch(): boolean {
  return matchMedia("(pointer: coarse)").matches;
}

/** The message box: Enter sends (a new line on touch screens), Shift+Enter starts a new line; the draft is kept per
 * conversation for the tab's lifetime. Rendered on the server it is a plain form that posts to
 * `/chat/:id/messages`, so a page whose script did not run can still send. */
export function Composer(props: { id: string }) {
  const store = useStore();
  // Only the conversation the page was rendered with has a server form state.
  const form = store.form?.conversationId === props.id ? store.form : null;
  const [text, setText] = useState(form?.draft ?? "");
  const [live, setLive] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    setLive(true);
    setText(loadDraft(props.id) || form?.draft || "");
    if (matchMedia("(min-width: 768px)").matches) area.current?.focus();
  }, [props.id]);

  const update = (value: string) => {
    setText(value);
    setRefused(false);
    saveDraft(props.id, value);
    if (value.trim()) store.typingNow(props.id);
  };

  // Counted in code points, as the server counts (an emoji is one, not two UTF-16 units).
  const length = text.length > LIMIT / 2 ? [...text].length : text.length;
  const over = length - LIMIT;
  const [refused, setRefused] = useState(false);

  // The box grows with its content up to its CSS max height, then scrolls.
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${el.scrollHeight + el.offsetHeight - el.clientHeight}px`;
  }, [text]);

  // Files attached here wait for Send; the text then is the caption of the first (part A).
  const attached = store.uploads.attached(props.id).length > 0;

  const submit = () => {
    if (!text.trim() && !attached) return;
    if (over > 0) {
      setRefused(true);
      return;
    }
    store.atBottom = true;
    if (attached) store.uploads.send(props.id, text.trim() ? text : "");
    else store.send(props.id, text);
    update("");
    area.current?.focus();
  };

  return (
    <form
      method="post"
      action={`/chat/${encodeURIComponent(props.id)}/messages`}
      class="relative flex items-end gap-2 border-t border-slate-200 bg-white p-3"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label for="composer" class="sr-only">Message</label>
      {live || !form ? null : <input type="hidden" name="id" value={form.sendId} />}
      {live
        ? (
          <label
            class="flex h-11 w-11 flex-none cursor-pointer items-center justify-center rounded-xl border border-slate-300 text-slate-600 hover:bg-slate-100 focus-within:ring-2 focus-within:ring-indigo-500"
            title="Attach photos or files"
          >
            <svg
              aria-hidden="true"
              viewBox="0 0 24 24"
              class="h-5 w-5"
              fill="none"
              stroke="currentColor"
              stroke-width="1.8"
            >
              <path d="M21 12.5l-8.5 8.5a5 5 0 0 1-7-7L14 5.5a3.5 3.5 0 0 1 5 5L10.5 19a2 2 0 0 1-3-3L15 8.5" />
            </svg>
            <span class="sr-only">Attach photos or files</span>
            <input
              type="file"
              multiple
              data-testid="attach-input"
              class="sr-only"
              onChange={(e) => {
                const input = e.currentTarget;
                if (input.files?.length) store.attach(props.id, [...input.files]);
                input.value = "";
              }}
            />
          </label>
        )
        : null}
      <textarea
        id="composer"
        name="body"
        ref={area}
        data-testid="composer"
        rows={1}
        aria-invalid={over > 0 ? "true" : undefined}
        aria-describedby={length >= COUNT_FROM ? "composer-count" : undefined}
        placeholder={attached ? "Add a caption…" : "Write a message…"}
        value={text}
        onInput={(e) => update(e.currentTarget.value)}
        onPaste={(e) => {
          const files = [...(e.clipboardData?.files ?? [])];
          if (!files.length) return;
          e.preventDefault();
          store.attach(props.id, files);
        }}
        onKeyDown={(e) => {
          // On a touch screen Enter is a new line and the button sends, as in WhatsApp and
          // Telegram on phones; with a keyboard Enter sends and Shift+Enter breaks the line.
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !touch()) {
            e.preventDefault();
            submit();
          }
        }}
        class="block max-h-40 min-h-11 min-w-0 flex-1 resize-none overflow-y-auto placeholder:truncate rounded-xl border border-slate-300 bg-white px-3 py-2 text-[15px] text-slate-900 shadow-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/40"
      />
      {length >= COUNT_FROM
        ? (
          <p
            id="composer-count"
            data-testid="composer-count"
            role={refused ? "alert" : undefined}
            class={`absolute right-3 bottom-full mb-1 rounded-md bg-white/95 px-2 py-0.5 text-xs shadow-sm ${
              over > 0 ? "font-medium text-rose-700" : "text-slate-600"
            }`}
          >
            {over > 0
              ? `${over.toLocaleString("en-US")} too many characters. Shorten it to send (${
                length.toLocaleString("en-US")
              } / ${LIMIT.toLocaleString("en-US")}).`
              : `${length.toLocaleString("en-US")} / ${LIMIT.toLocaleString("en-US")}`}
          </p>
        )
        : null}
      <button
        type="submit"
        data-testid="send"
        disabled={live && ((!text.trim() && !attached) || over > 0)}
        class="min-h-11 rounded-xl bg-indigo-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:cursor-not-allowed disabled:opacity-50"
      >
        Send
      </button>
    </form>
  );
}
