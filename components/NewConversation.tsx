import { useState } from "preact/hooks";
import type { User } from "../lib/protocol.ts";
import { LIMITS } from "../lib/protocol.ts";
import { useStore } from "./context.ts";
import { Dialog, primaryButton, smallButton, UserSearch } from "./Dialog.tsx";

function Tab(props: { active: boolean; onClick: () => void; label: string; testid: string }) {
  return (
    <button
      type="button"
      aria-pressed={props.active}
      data-testid={props.testid}
      onClick={props.onClick}
      class={`flex-1 rounded-md px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
        props.active ? "bg-white text-slate-900 shadow-sm" : "text-slate-600 hover:text-slate-900"
      }`}
    >
      {props.label}
    </button>
  );
}

function Body() {
  const store = useStore();
  const [mode, setMode] = useState<"direct" | "group">("direct");
  const [title, setTitle] = useState("");
  const [picked, setPicked] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  const run = async (input: Parameters<typeof store.actions.create>[0]) => {
    setBusy(true);
    setError("");
    try {
      await store.actions.create(input);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const pickedIds = new Set(picked.map((u) => u.id));

  return (
    <div class="space-y-4">
      <div class="flex gap-1 rounded-lg bg-slate-100 p-1">
        <Tab
          active={mode === "direct"}
          onClick={() => setMode("direct")}
          label="Direct message"
          testid="mode-direct"
        />
        <Tab
          active={mode === "group"}
          onClick={() => setMode("group")}
          label="New group"
          testid="mode-group"
        />
      </div>
      {mode === "group"
        ? (
          <div class="space-y-3">
            <div>
              <label for="group-title" class="block text-sm font-medium text-slate-700">
                Group name
              </label>
              <input
                id="group-title"
                data-testid="group-title"
                value={title}
                maxLength={LIMITS.titleMax}
                onInput={(e) => setTitle(e.currentTarget.value)}
                class="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 shadow-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/40"
              />
            </div>
            <div>
              <p class="text-sm font-medium text-slate-700">Members</p>
              {picked.length
                ? (
                  <ul class="mt-1 flex flex-wrap gap-1.5" data-testid="picked">
                    {picked.map((u) => (
                      <li
                        key={u.id}
                        class="flex items-center gap-1 rounded-full bg-indigo-50 py-0.5 pr-1 pl-2.5 text-sm text-indigo-800"
                      >
                        {u.displayName}
                        <button
                          type="button"
                          onClick={() => setPicked(picked.filter((p) => p.id !== u.id))}
                          class="rounded-full px-1.5 hover:bg-indigo-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                        >
                          <span aria-hidden="true">×</span>
                          <span class="sr-only">Remove {u.displayName}</span>
                        </button>
                      </li>
                    ))}
                  </ul>
                )
                : <p class="mt-1 text-sm text-slate-500">Add people with the search below.</p>}
            </div>
          </div>
        )
        : null}
      <UserSearch
        label={mode === "direct" ? "Who do you want to talk to?" : "Add people"}
        exclude={mode === "group" ? pickedIds : undefined}
        autofocus
        action={(u, clear) =>
          mode === "direct"
            ? (
              <button
                type="button"
                class={smallButton}
                disabled={busy}
                data-testid="start-direct"
                onClick={() => run({ kind: "direct", userId: u.id })}
              >
                Message
              </button>
            )
            : (
              <button
                type="button"
                class={smallButton}
                data-testid="pick-user"
                onClick={() => {
                  setPicked([...picked, u]);
                  clear();
                }}
              >
                Add
              </button>
            )}
      />
      {error ? <p role="alert" class="text-sm text-rose-600">{error}</p> : null}
      {mode === "group"
        ? (
          <div class="flex justify-end">
            <button
              type="button"
              class={primaryButton}
              data-testid="create-group"
              disabled={busy || !title.trim() || !picked.length}
              onClick={() =>
                run({ kind: "group", title: title.trim(), memberIds: picked.map((u) => u.id) })}
            >
              Create group
            </button>
          </div>
        )
        : null}
    </div>
  );
}

/** Start a direct chat or create a group. */
export function NewConversation() {
  const store = useStore();
  const open = store.dialog.value === "new";
  return (
    <Dialog open={open} title="New conversation" testid="new-dialog">
      <Body />
    </Dialog>
  );
}
