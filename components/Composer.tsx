import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { mentionAt } from "../client/changes.ts";
import { LIMITS, type Member } from "../lib/protocol.ts";
import { DRAFT_PREFIX } from "../client/store.ts";
import { useStore } from "./context.ts";
import { ComposerContext } from "./MessageChanges.tsx";

const LIMIT = LIMITS.bodyMaxCodePoints;
/** The counter shows from here on, as Slack's does near its limit. */
const COUNT_FROM = LIMIT - 200;

const draftKey = (id: string) => DRAFT_PREFIX + id;

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
  const t = store.thread(props.id);
  const editing = t.editing.value;
  /** The `@name` being typed, and the member the picker has selected. */
  const [mention, setMention] = useState<{ query: string; start: number } | null>(null);
  const [pick, setPick] = useState(0);
  // What was typed before editing started, put back when the edit ends.
  const saved = useRef<string | null>(null);

  useEffect(() => {
    if (editing) {
      if (saved.current === null) saved.current = text;
      setText(editing.body);
      area.current?.focus();
    } else if (saved.current !== null) {
      setText(saved.current);
      saved.current = null;
    }
  }, [editing]);

  useEffect(() => {
    setLive(true);
    setText(loadDraft(props.id) || form?.draft || "");
    if (matchMedia("(min-width: 768px)").matches) area.current?.focus();
  }, [props.id]);

  const update = (value: string) => {
    setText(value);
    setRefused(false);
    if (t.editing.value) return;
    saveDraft(props.id, value);
    store.noteDraft(props.id, value);
    if (value.trim()) store.typingNow(props.id);
  };

  const members: Member[] = (t.members.value ?? []).filter((m) => m.id !== store.me.id);
  const candidates = mention
    ? members.filter((m) =>
      m.username.toLowerCase().startsWith(mention.query) ||
      m.displayName.toLowerCase().split(/\s+/).some((w) => w.startsWith(mention.query))
    ).slice(0, 8)
    : [];
  const picking = candidates.length > 0;
  const findMention = () => {
    const el = area.current;
    if (!el) return;
    const at = mentionAt(el.value, el.selectionStart ?? el.value.length);
    setMention(at);
    if (at?.query !== mention?.query) setPick(0);
  };
  const insertMention = (m: Member) => {
    const el = area.current;
    if (!el || !mention) return;
    const caret = el.selectionStart ?? text.length;
    const next = `${text.slice(0, mention.start)}@${m.username} ${text.slice(caret)}`;
    update(next);
    setMention(null);
    const at = mention.start + m.username.length + 2;
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(at, at);
    });
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
    const edit = t.editing.value;
    if (edit) {
      store.edit(props.id, edit, text);
      t.editing.value = null;
      area.current?.focus();
      return;
    }
    store.atBottom = true;
    if (attached) store.uploads.send(props.id, text.trim() ? text : "");
    else store.send(props.id, text);
    update("");
    area.current?.focus();
  };

  return (
    <>
      <ComposerContext convId={props.id} />
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
          aria-autocomplete="list"
          aria-controls={picking ? "mention-picker" : undefined}
          aria-activedescendant={picking ? `mention-${candidates[pick]?.id}` : undefined}
          onInput={(e) => {
            update(e.currentTarget.value);
            findMention();
          }}
          onClick={findMention}
          onBlur={() => setMention(null)}
          onPaste={(e) => {
            const files = [...(e.clipboardData?.files ?? [])];
            if (!files.length) return;
            e.preventDefault();
            store.attach(props.id, files);
          }}
          onKeyDown={(e) => {
            if (picking) {
              if (e.key === "ArrowDown" || e.key === "ArrowUp") {
                e.preventDefault();
                const d = e.key === "ArrowDown" ? 1 : -1;
                setPick((pick + d + candidates.length) % candidates.length);
                return;
              }
              if ((e.key === "Enter" || e.key === "Tab") && !e.isComposing) {
                e.preventDefault();
                insertMention(candidates[pick] ?? candidates[0]);
                return;
              }
              if (e.key === "Escape") {
                e.preventDefault();
                setMention(null);
                return;
              }
            }
            if (e.key === "Escape" && (t.editing.value || t.replying.value)) {
              e.preventDefault();
              t.editing.value = null;
              t.replying.value = null;
              return;
            }
            // Up in an empty box edits our last message, as in Slack and Discord.
            if (e.key === "ArrowUp" && !text && !e.shiftKey) {
              const mine = t.messages.value.findLast((m) =>
                m.senderId === store.me.id && !m.deleted && m.kind !== "system"
              );
              if (mine) {
                e.preventDefault();
                t.replying.value = null;
                t.editing.value = mine;
              }
              return;
            }
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
        {picking
          ? (
            <ul
              id="mention-picker"
              role="listbox"
              aria-label="Mention someone"
              data-testid="mention-picker"
              class="absolute bottom-full left-3 z-20 mb-1 max-h-64 w-64 overflow-y-auto rounded-xl border border-slate-200 bg-white py-1 shadow-lg"
            >
              {candidates.map((m, i) => (
                <li
                  key={m.id}
                  id={`mention-${m.id}`}
                  role="option"
                  aria-selected={i === pick ? "true" : "false"}
                  data-testid="mention-option"
                  onMouseDown={(e) => {
                    e.preventDefault();
                    insertMention(m);
                  }}
                  class={`cursor-pointer px-3 py-1.5 text-sm ${
                    i === pick ? "bg-indigo-50 text-indigo-900" : "text-slate-800"
                  }`}
                >
                  <span class="font-medium">{m.displayName}</span>{" "}
                  <span class="text-slate-600">@{m.username}</span>
                </li>
              ))}
            </ul>
          )
          : null}
        <button
          type="submit"
          data-testid="send"
          disabled={live && ((!text.trim() && !attached) || over > 0)}
          class="min-h-11 rounded-xl bg-indigo-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:cursor-not-allowed disabled:opacity-50"
        >
          {editing ? "Save" : "Send"}
        </button>
      </form>
    </>
  );
}
