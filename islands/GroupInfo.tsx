import { useState } from "preact/hooks";
import type { Member, Role } from "../lib/protocol.ts";
import { Avatar } from "./Avatar.tsx";
import { useStore } from "./context.ts";
import { Dialog, smallButton, UserSearch } from "./Dialog.tsx";

/** Whether someone with role `me` may remove a member with role `them` (not themself). */
function mayRemove(me: Role | undefined, them: Role): boolean {
  return me === "owner" || (me === "admin" && them === "member");
}

function Body(props: { id: string }) {
  const store = useStore();
  const members = store.thread(props.id).members.value;
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const me = members?.find((m) => m.id === store.me.id);
  const manager = me?.role === "owner" || me?.role === "admin";

  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError("");
    try {
      await fn();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (!members) return <p class="text-sm text-slate-500">Loading members…</p>;
  return (
    <div class="space-y-5">
      <section>
        <h3 class="text-sm font-semibold text-slate-700">{members.length} members</h3>
        <ul class="mt-2 divide-y divide-slate-100" data-testid="members">
          {members.map((m: Member) => (
            <li key={m.id} class="flex items-center gap-3 py-2" data-testid="member">
              <Avatar name={m.displayName} seed={m.id} online={m.online} small />
              <span class="min-w-0 flex-1">
                <span class="block truncate text-sm font-medium">
                  {m.displayName}
                  {m.id === store.me.id ? <span class="ml-1 text-slate-500">(you)</span> : null}
                </span>
                <span class="block truncate text-xs text-slate-500">
                  @{m.username} · {m.online ? "online" : "offline"}
                </span>
              </span>
              {m.role === "member"
                ? null
                : (
                  <span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600 capitalize">
                    {m.role}
                  </span>
                )}
              {m.id !== store.me.id && mayRemove(me?.role, m.role)
                ? (
                  <button
                    type="button"
                    class={smallButton}
                    disabled={busy}
                    data-testid="remove-member"
                    onClick={() =>
                      act(() => store.removeMember(props.id, m.id))}
                  >
                    Remove<span class="sr-only">{m.displayName}</span>
                  </button>
                )
                : null}
            </li>
          ))}
        </ul>
      </section>
      {manager
        ? (
          <section>
            <UserSearch
              label="Add a member"
              exclude={new Set(members.map((m) => m.id))}
              action={(u) => (
                <button
                  type="button"
                  class={smallButton}
                  disabled={busy}
                  data-testid="add-member"
                  onClick={() => act(() => store.addMember(props.id, u.id))}
                >
                  Add
                </button>
              )}
            />
          </section>
        )
        : null}
      {error ? <p role="alert" class="text-sm text-rose-600">{error}</p> : null}
      <div class="flex justify-end border-t border-slate-200 pt-4">
        <button
          type="button"
          disabled={busy}
          data-testid="leave-group"
          onClick={() => act(() => store.removeMember(props.id, store.me.id))}
          class="rounded-lg border border-rose-300 px-3 py-1.5 text-sm font-medium text-rose-700 hover:bg-rose-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-rose-500"
        >
          Leave group
        </button>
      </div>
    </div>
  );
}

/** Members with role and presence; add and remove for owner and admins; leave. */
export function GroupInfo() {
  const store = useStore();
  const id = store.openId.value;
  const conv = store.conversation(id);
  const open = store.dialog.value === "info" && conv?.kind === "group";
  return (
    <Dialog open={open} title={conv ? conv.title : "Group info"} testid="info-dialog">
      {id ? <Body id={id} /> : null}
    </Dialog>
  );
}
