import { useState } from "preact/hooks";
import { countOf } from "../client/format.ts";
import { LIMITS, type Member, type Role } from "../lib/protocol.ts";
import { mayChangeRoles, mayManage, mayRemove, roleChangeable } from "../lib/roles.ts";
import { Avatar } from "./Avatar.tsx";
import { useStore } from "./context.ts";
import { Confirm, type Confirmation, Dialog, smallButton, UserSearch } from "./Dialog.tsx";

function RoleBadge(props: { role: Role }) {
  if (props.role === "member") return null;
  const owner = props.role === "owner";
  return (
    <span
      data-testid="role-badge"
      class={`rounded-full px-2 py-0.5 text-xs font-medium ${
        owner ? "bg-indigo-50 text-indigo-700" : "bg-slate-100 text-slate-600"
      }`}
    >
      {owner ? "Owner" : "Admin"}
    </span>
  );
}

/** The group's name, editable by its owner and admins. */
function Rename(
  props: { id: string; title: string; busy: boolean; run: (fn: () => Promise<void>) => void },
) {
  const store = useStore();
  const [title, setTitle] = useState(props.title);
  const next = title.trim();
  return (
    <form
      class="flex items-end gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        if (next && next !== props.title) props.run(() => store.actions.rename(props.id, next));
      }}
    >
      <label class="min-w-0 flex-1">
        <span class="block text-sm font-medium text-slate-700">Group name</span>
        <input
          data-testid="rename-input"
          value={title}
          maxLength={LIMITS.titleMax}
          required
          onInput={(e) => setTitle(e.currentTarget.value)}
          class="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-1.5 text-sm shadow-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/40"
        />
      </label>
      <button
        type="submit"
        data-testid="rename-save"
        disabled={props.busy || !next || next === props.title}
        class="rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 disabled:opacity-50"
      >
        Rename
      </button>
    </form>
  );
}

function Body(props: { id: string }) {
  const store = useStore();
  const members = store.thread(props.id).members.value;
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [ask, setAsk] = useState<Confirmation | null>(null);
  const me = members?.find((m) => m.id === store.me.id);
  const manager = mayManage(me?.role);
  const title = store.conversation(props.id)?.title ?? "";

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
      {manager ? <Rename key={title} id={props.id} title={title} busy={busy} run={act} /> : null}
      <section>
        <h3 class="text-sm font-semibold text-slate-700">
          {countOf(members.length, "member", "members")}
        </h3>
        <ul class="mt-2 divide-y divide-slate-100" data-testid="members">
          {members.map((m: Member) => (
            <li
              key={m.id}
              class="flex flex-wrap items-center gap-x-3 gap-y-1.5 py-2"
              data-testid="member"
            >
              <Avatar
                name={m.displayName}
                seed={m.id}
                online={m.online}
                small
                url={m.avatarUrl}
              />
              <span class="min-w-0 flex-1 basis-36">
                <span class="block truncate text-sm font-medium">
                  {m.displayName}
                  {m.id === store.me.id ? <span class="ml-1 text-slate-500">(you)</span> : null}
                </span>
                <span class="block truncate text-xs text-slate-500">
                  @{m.username} · {m.online ? "online" : "offline"}
                </span>
              </span>
              {/* On a phone the actions wrap under the name rather than squeeze it. */}
              <span class="ml-auto flex items-center gap-2">
                <RoleBadge role={m.role} />
                {mayChangeRoles(me?.role) && roleChangeable(m.role)
                  ? (
                    <button
                      type="button"
                      class={smallButton}
                      disabled={busy}
                      data-testid="toggle-admin"
                      onClick={() =>
                        act(() =>
                          store.actions.setRole(
                            props.id,
                            m.id,
                            m.role === "admin" ? "member" : "admin",
                          )
                        )}
                    >
                      {m.role === "admin" ? "Remove admin" : "Make admin"}
                      <span class="sr-only">{": " + m.displayName}</span>
                    </button>
                  )
                  : null}
                {m.id !== store.me.id && mayRemove(me?.role, m.role)
                  ? (
                    <button
                      type="button"
                      class={smallButton}
                      disabled={busy}
                      data-testid="remove-member"
                      onClick={() =>
                        setAsk({
                          title: `Remove ${m.displayName} from ${title}?`,
                          text:
                            `${m.displayName} will no longer get this group's messages or be able to send to it. An owner or admin can add them back later.`,
                          action: "Remove",
                          run: () => act(() => store.actions.removeMember(props.id, m.id)),
                        })}
                    >
                      Remove<span class="sr-only">{" " + m.displayName}</span>
                    </button>
                  )
                  : null}
              </span>
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
              action={(u, clear) => (
                <button
                  type="button"
                  class={smallButton}
                  disabled={busy}
                  data-testid="add-member"
                  onClick={() => {
                    clear();
                    act(() => store.actions.addMember(props.id, u.id));
                  }}
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
          onClick={() =>
            setAsk({
              title: `Leave ${title}?`,
              text: `You will stop getting this group's messages and it will leave your chats. ${
                me?.role === "owner" && members.length > 1
                  ? "Ownership passes to the longest-standing admin, or else member. "
                  : ""
              }Only an owner or admin can add you back.`,
              action: "Leave group",
              run: () => act(() => store.actions.removeMember(props.id, store.me.id)),
            })}
          class="rounded-lg border border-rose-300 px-3 py-1.5 text-sm font-medium text-rose-700 hover:bg-rose-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-rose-500"
        >
          Leave group
        </button>
      </div>
      <Confirm ask={ask} onDone={() => setAsk(null)} />
    </div>
  );
}

/** Members with role and presence; rename, add and remove for owner and admins; roles for the
 * owner; leave for everyone. */
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
