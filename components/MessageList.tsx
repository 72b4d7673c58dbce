import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { fullWhen, linkify, timeOf } from "../client/format.ts";
import { type Row, timeline, unseenCount } from "../client/timeline.ts";
import type { Attachment, SystemEvent } from "../lib/protocol.ts";
import { FileAttachment, ImageAttachment, Uploading } from "./Attachment.tsx";
import { useStore } from "./context.ts";

/** A message body as text, with http(s) links made clickable; never parsed as HTML. */
export function MessageText(props: { body: string }) {
  return (
    <>
      {linkify(props.body).map((p, i) =>
        p.href
          ? (
            <a
              key={i}
              href={p.href}
              target="_blank"
              rel="noopener noreferrer"
              class="underline decoration-1 underline-offset-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400"
            >
              {p.text}
            </a>
          )
          : p.text
      )}
    </>
  );
}

function Bubble(
  props: {
    mine: boolean;
    sender?: string;
    body: string;
    ts: number;
    status?: ComponentChildren;
    seq?: number;
    id: string;
    pending?: boolean;
    /** Show the time (and status) line: the last of a run from one sender. */
    meta?: boolean;
    /** What an image or file message carries; its `body` is then the caption. */
    attachment?: Attachment | null;
    /** When the body was last edited (shown as "edited", the time on hover). */
    editedTs?: number | null;
    /** A deleted message shows only that it was deleted. */
    deleted?: boolean;
  },
) {
  const store = useStore();
  const local = store.localTime.value;
  const a = props.deleted ? null : props.attachment;
  return (
    <li
      data-testid="message"
      data-seq={props.seq}
      data-id={props.id}
      data-mine={String(props.mine)}
      class={`flex px-4 py-0.5 ${props.mine ? "justify-end" : "justify-start"}`}
    >
      <div class={`flex max-w-[80%] min-w-0 flex-col ${props.mine ? "items-end" : "items-start"}`}>
        {props.sender
          ? <span class="mt-2 mb-0.5 px-1 text-xs font-medium text-slate-500">{props.sender}</span>
          : null}
        {a
          ? (
            <div class={`max-w-full ${props.pending ? "opacity-70" : ""}`}>
              {a.width !== null
                ? <ImageAttachment attachment={a} onOpen={() => store.viewer.value = a} />
                : <FileAttachment attachment={a} mine={props.mine} />}
            </div>
          )
          : null}
        {a && !props.body ? null : (
          <div
            data-testid="message-body"
            dir="auto"
            class={`rounded-2xl px-3 py-2 max-w-full text-[15px] leading-snug [overflow-wrap:anywhere] whitespace-pre-wrap shadow-sm ${
              a ? "mt-1 " : ""
            }${
              props.mine
                ? `bg-indigo-600 text-white ${props.pending ? "opacity-70" : ""}`
                : "border border-slate-200 bg-white text-slate-900"
            }`}
          >
            {props.deleted
              ? <em data-testid="message-deleted" class="opacity-80">Message deleted</em>
              : <MessageText body={props.body} />}
            {props.editedTs && !props.deleted
              ? (
                <span
                  data-testid="message-edited"
                  title={`Edited ${fullWhen(props.editedTs, local)}`}
                  class="ml-1.5 text-[11px] opacity-70"
                >
                  (edited)
                </span>
              )
              : null}
          </div>
        )}
        {props.meta === false
          ? null
          : (
            <span class="mt-0.5 mb-1 flex gap-1.5 px-1 text-[11px] text-slate-500">
              <time dateTime={new Date(props.ts).toISOString()} title={fullWhen(props.ts, local)}>
                {timeOf(props.ts, local)}
              </time>
              {props.status}
            </span>
          )}
      </div>
    </li>
  );
}

/** A group change as a line of the conversation ("Ann added Bob"). */
export function systemText(s: SystemEvent, name: (id?: string) => string): string {
  const who = name(s.actorId);
  switch (s.action) {
    case "created":
      return `${who} created the group${s.title ? ` “${s.title}”` : ""}`;
    case "renamed":
      return `${who} renamed the group to “${s.title ?? ""}”`;
    case "added":
      return `${who} added ${name(s.userId)}`;
    case "removed":
      return `${who} removed ${name(s.userId)}`;
    case "left":
      return `${name(s.userId)} left`;
    case "owner_changed":
      return `${name(s.userId)} is now the owner`;
  }
}

function Divider(props: { label: string; accent?: boolean; testid?: string }) {
  return (
    // A plain list item: a separator role is not allowed as a child of a list (axe: list).
    <li
      data-testid={props.testid}
      class={`flex items-center gap-3 px-4 py-3 text-xs font-medium ${
        props.accent ? "text-rose-700" : "text-slate-500"
      }`}
    >
      <span class={`h-px flex-1 ${props.accent ? "bg-rose-300" : "bg-slate-200"}`} />
      {props.label}
      <span class={`h-px flex-1 ${props.accent ? "bg-rose-300" : "bg-slate-200"}`} />
    </li>
  );
}

/** The open conversation's messages: date separators, the new-messages line, pending sends,
 * paging up for history and staying pinned to the end only when the reader is there. */
export function MessageList(props: { id: string }) {
  const store = useStore();
  const t = store.thread(props.id);
  const conv = store.conversation(props.id);
  const messages = t.messages.value;
  const pending = t.pending.value;
  const members = t.members.value;
  const marker = t.marker.value;
  const uploads = store.uploads.list.value;
  const local = store.localTime.value;
  const me = store.me.id;
  const box = useRef<HTMLDivElement>(null);
  const snap = useRef({ first: -1, height: 0, top: 0 });
  const [atBottom, setAtBottom] = useState(true);

  // The scroller is `flex-col-reverse`: its scroll origin is the bottom (scrollTop 0 is the
  // newest message, scrolling up goes negative). So the server's HTML opens at the newest
  // message with no script, an older page prepended leaves the view where it is, and a reader
  // at the bottom stays there as messages arrive. Only one case needs help: something added
  // below while the reader is scrolled up would pull the view along, so it is held in place.
  useLayoutEffect(() => {
    const el = box.current!;
    const s = snap.current;
    const first = messages[0]?.seq ?? 0;
    if (store.atBottom) el.scrollTop = 0;
    else if (s.first !== -1 && first === s.first && el.scrollHeight !== s.height) {
      el.scrollTop = s.top - (el.scrollHeight - s.height);
    }
    snap.current = { first, height: el.scrollHeight, top: el.scrollTop };
  }, [messages, pending, marker, uploads]);

  const onScroll = () => {
    const el = box.current!;
    const fromBottom = -el.scrollTop;
    const bottom = fromBottom < 40;
    snap.current = { ...snap.current, height: el.scrollHeight, top: el.scrollTop };
    store.atBottom = bottom;
    if (bottom !== atBottom) setAtBottom(bottom);
    if (bottom) store.markRead();
    if (el.scrollHeight - el.clientHeight - fromBottom < 200) {
      store.actions.loadOlder(props.id).catch(() => {});
    }
  };

  const jump = () => {
    box.current!.scrollTop = 0;
    onScroll();
  };

  const rows = timeline({
    messages,
    pending,
    members,
    marker,
    meId: me,
    kind: conv?.kind,
    local,
    now: Date.now(),
  });
  const row = (r: Row) => {
    switch (r.kind) {
      case "day":
        return <Divider key={"d" + r.key} label={r.label} testid="date-separator" />;
      case "new":
        return <Divider key="new" label="New messages" accent testid="new-marker" />;
      case "message": {
        const m = r.message;
        if (m.kind === "system" && m.system) {
          const name = (id?: string) =>
            id === me ? "You" : members?.find((u) => u.id === id)?.displayName ?? "Someone";
          return <Divider key={m.id + m.seq} label={systemText(m.system, name)} testid="system" />;
        }
        return (
          <Bubble
            key={m.id + m.seq}
            id={m.id}
            seq={m.seq}
            mine={r.mine}
            sender={r.sender}
            body={m.body}
            attachment={m.attachment}
            editedTs={m.editedTs}
            deleted={m.deleted}
            ts={m.ts}
            meta={r.meta}
            status={r.status ? <span data-testid="message-status">· {r.status}</span> : undefined}
          />
        );
      }
      case "pending": {
        const o = r.send;
        return (
          <Bubble
            key={o.id}
            id={o.id}
            mine
            pending
            body={o.body}
            attachment={o.attachment}
            ts={o.ts}
            status={o.failed
              ? (
                <span class="text-rose-700" data-testid="message-status">
                  · Not sent: {o.failed}{" "}
                  <button
                    type="button"
                    class="font-medium underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                    onClick={() => store.retry(props.id, o.id)}
                  >
                    Retry
                  </button>
                </span>
              )
              : <span data-testid="message-status">· Sending…</span>}
          />
        );
      }
    }
  };
  const items = rows.map(row);
  for (const u of store.uploads.of(props.id)) {
    items.push(
      <Uploading
        key={"u" + u.localId}
        upload={u}
        onCancel={() => store.uploads.cancel(u.localId)}
        onRetry={() => store.uploads.retry(u.localId)}
      />,
    );
  }

  const unseen = unseenCount(marker, atBottom, conv?.lastSeq ?? 0);
  return (
    <div class="relative min-h-0 flex-1">
      <div
        ref={box}
        onScroll={onScroll}
        tabIndex={0}
        aria-label="Messages"
        class="flex h-full flex-col-reverse overflow-y-auto [overflow-anchor:none] focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-500"
        data-testid="message-scroller"
      >
        <div class={items.length ? "py-3" : "m-auto"}>
          {t.hasMore.value
            ? (
              <p class="py-2 text-center text-xs text-slate-500">
                {t.loadingOlder.value ? "Loading earlier messages…" : (
                  // A link to the page before this one, for a page without script.
                  <a
                    href={`/chat/${encodeURIComponent(props.id)}?before=${
                      t.messages.value[0]?.seq ?? 0
                    }`}
                    data-testid="load-earlier"
                    class="underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                    onClick={(e) => {
                      e.preventDefault();
                      store.actions.loadOlder(props.id);
                    }}
                  >
                    Load earlier messages
                  </a>
                )}
              </p>
            )
            : null}
          {items.length
            ? (
              // The log role sits on a wrapper: on the <ol> itself it would hide the list from
              // assistive tech, leaving its <li>s orphaned (axe: listitem).
              <div role="log" aria-live="polite" aria-label="Message history">
                <ol data-testid="messages">{items}</ol>
              </div>
            )
            : (
              <p class="px-4 py-16 text-center text-sm text-slate-500" data-testid="messages-empty">
                No messages yet. Say hello!
              </p>
            )}
        </div>
      </div>
      {atBottom ? null : (
        <button
          type="button"
          data-testid="jump-latest"
          onClick={jump}
          class="absolute right-4 bottom-3 rounded-full bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-lg hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400"
        >
          {unseen > 0 ? `${unseen} new · ` : ""}Jump to latest ↓
        </button>
      )}
    </div>
  );
}
