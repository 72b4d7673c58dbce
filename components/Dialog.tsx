import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { UserWithPresence } from "../lib/protocol.ts";
import { Avatar } from "./Avatar.tsx";
import { useStore } from "./context.ts";

/** A modal `<dialog>`: focus is trapped, Escape closes it, and its content mounts only while
 * it is open. */
export function Dialog(
  props: { open: boolean; title: string; testid: string; children: ComponentChildren },
) {
  const store = useStore();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = ref.current!;
    if (props.open && !el.open) {
      el.showModal();
      // The field the dialog is for takes the focus, not its first button (the "×").
      el.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    }
    if (!props.open && el.open) el.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={`${props.testid}-title`}
      data-testid={props.testid}
      onClose={() => store.dialog.value = null}
      class="m-auto w-[min(32rem,calc(100%-2rem))] rounded-2xl border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-black/50"
    >
      {props.open
        ? (
          <div class="flex max-h-[85vh] flex-col">
            <div class="flex items-center justify-between border-b border-slate-200 px-5 py-3">
              <h2 id={`${props.testid}-title`} class="text-lg font-semibold">{props.title}</h2>
              <button
                type="button"
                onClick={() => store.dialog.value = null}
                class="rounded-lg px-2 py-1 text-xl leading-none text-slate-500 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
              >
                <span aria-hidden="true">×</span>
                <span class="sr-only">Close</span>
              </button>
            </div>
            <div class="min-h-0 overflow-y-auto px-5 py-4">{props.children}</div>
          </div>
        )
        : null}
    </dialog>
  );
}

/** A search box over the user search (`api.searchUsers`), debounced; `action` renders the control for each hit. */
export function UserSearch(
  props: {
    label: string;
    exclude?: Set<string>;
    /** Renders the control for a hit; `clear` empties the box and refocuses it, for pickers
     * that add one person after another. */
    action: (u: UserWithPresence, clear: () => void) => ComponentChildren;
    autofocus?: boolean;
  },
) {
  const store = useStore();
  const [q, setQ] = useState("");
  const [users, setUsers] = useState<UserWithPresence[]>([]);
  const [error, setError] = useState("");
  const box = useRef<HTMLInputElement>(null);
  const clear = () => {
    setQ("");
    box.current?.focus();
  };
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      store.actions.searchUsers(q)
        .then((found) => live && (setUsers(found), setError("")))
        .catch((e) => live && setError(e.message));
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [q]);
  const shown = users.filter((u) => !props.exclude?.has(u.id));
  return (
    <div>
      <label for="user-search" class="block text-sm font-medium text-slate-700">
        {props.label}
      </label>
      <input
        id="user-search"
        ref={box}
        data-autofocus={props.autofocus ? "" : undefined}
        type="text"
        role="searchbox"
        autocomplete="off"
        data-testid="user-search"
        placeholder="Name or username"
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
        class="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 shadow-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/40"
      />
      {error ? <p role="alert" class="mt-2 text-sm text-rose-600">{error}</p> : null}
      {q.trim() && !shown.length && !error
        ? <p class="mt-3 text-sm text-slate-500">Nobody found.</p>
        : null}
      <ul class="mt-2 divide-y divide-slate-100" data-testid="user-results">
        {shown.map((u) => (
          <li key={u.id} class="flex items-center gap-3 py-2" data-testid="user-result">
            <Avatar
              name={u.displayName}
              seed={u.id}
              online={u.online}
              small
              url={u.avatarUrl}
            />
            <span class="min-w-0 flex-1">
              <span class="block truncate text-sm font-medium">{u.displayName}</span>
              <span class="block truncate text-xs text-slate-500">@{u.username}</span>
            </span>
            {props.action(u, clear)}
          </li>
        ))}
      </ul>
    </div>
  );
}

export const smallButton =
  "rounded-lg border border-slate-300 px-2.5 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 disabled:opacity-50";
export const primaryButton =
  "rounded-lg bg-indigo-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:cursor-not-allowed disabled:opacity-50";

/** What a confirmation asks: the question, what will happen, and the button that does it. */
export interface Confirmation {
  title: string;
  text: string;
  action: string;
  run: () => void;
}

/** A confirmation for a destructive action, as Slack and WhatsApp Web ask it: a small modal
 * over the dialog that says what will happen, with Cancel focused so Enter does no harm. */
export function Confirm(props: { ask: Confirmation | null; onDone: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const el = ref.current!;
    if (props.ask && !el.open) {
      el.showModal();
      cancel.current?.focus();
    }
    if (!props.ask && el.open) el.close();
  }, [props.ask]);
  return (
    <dialog
      ref={ref}
      role="alertdialog"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-text"
      data-testid="confirm-dialog"
      onClose={props.onDone}
      class="m-auto w-[min(24rem,calc(100%-2rem))] rounded-2xl border border-slate-200 bg-white p-5 text-slate-900 shadow-xl backdrop:bg-black/50"
    >
      {props.ask
        ? (
          <>
            <h2 id="confirm-title" class="text-lg font-semibold">{props.ask.title}</h2>
            <p id="confirm-text" class="mt-2 text-sm text-slate-600">
              {props.ask.text}
            </p>
            <div class="mt-5 flex justify-end gap-2">
              <button
                type="button"
                ref={cancel}
                data-testid="confirm-cancel"
                onClick={props.onDone}
                class={`${smallButton} min-h-11 px-4`}
              >
                Cancel
              </button>
              <button
                type="button"
                data-testid="confirm-ok"
                onClick={() => {
                  const ask = props.ask!;
                  props.onDone();
                  ask.run();
                }}
                class="min-h-11 rounded-lg bg-rose-700 px-4 text-sm font-medium text-white hover:bg-rose-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-rose-500 focus-visible:ring-offset-2"
              >
                {props.ask.action}
              </button>
            </div>
          </>
        )
        : null}
    </dialog>
  );
}
