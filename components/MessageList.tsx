import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { type Msg, splitMentions } from "../client/changes.ts";
import { fullWhen, linkify, timeOf } from "../client/format.ts";
import { type Row, timeline, unseenCount } from "../client/timeline.ts";
import type { Attachment } from "../lib/protocol.ts";
import { FileAttachment, ImageAttachment, Uploading } from "./Attachment.tsx";
import { useStore } from "./context.ts";
import { Confirm, type Confirmation } from "./Dialog.tsx";
import { Edited, MessageActions, Reactions, ReplyQuote } from "./MessageChanges.tsx";
import { Avatar } from "./Avatar.tsx";

/** Text with the `@username`s of members highlighted (ours more strongly). */
function Mentioned(props: { text: string; names?: Map<string, string>; meId?: string }) {
  if (!props.names) return <>{props.text}</>;
  return (
    <>
      {splitMentions(props.text, props.names).map((p, i) =>
        p.userId
          ? (
            <span
              key={i}
              data-testid="mention"
              class={`rounded px-0.5 font-semibold ${
                p.userId === props.meId ? "bg-amber-200 text-amber-950" : "underline"
              }`}
            >
              {p.text}
            </span>
          )
          : p.text
      )}
    </>
  );
}

/** A message body as text, with http(s) links made clickable and members' `@username`s
 * highlighted (`names`: username → user id); never parsed as HTML. */
export function MessageText(props: { body: string; names?: Map<string, string>; meId?: string }) {
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
          : <Mentioned key={i} text={p.text} names={props.names} meId={props.meId} />
      )}
    </>
  );
}

/** A blocked user's message in a group, folded away until the reader asks to see it. */
function BlockedBubble(props: { id: string; seq: number }) {
  const [shown, setShown] = useState(false);
  const store = useStore();
  const m = shown
    ? store.heldThread(store.openId.value ?? "")?.messages.value.find((x) => x.seq === props.seq)
    : undefined;
  return (
    <li
      data-testid="message-blocked"
      data-seq={props.seq}
      data-id={props.id}
      class="flex justify-start px-4 py-0.5"
    >
      {m
        ? (
          <div
            dir="auto"
            class="max-w-[80%] rounded-2xl bg-slate-100 px-3 py-2 text-[15px] text-slate-700 [overflow-wrap:anywhere] whitespace-pre-wrap"
          >
            <MessageText body={m.body} />
          </div>
        )
        : (
          <p class="px-1 text-sm text-slate-500 italic">
            Message from a blocked user,{" "}
            <button
              type="button"
              data-testid="show-blocked"
              class="font-medium text-indigo-700 underline not-italic focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
              onClick={() => setShown(true)}
            >
              show
            </button>
          </p>
        )}
    </li>
  );
}

function Bubble(
  props: {
    mine: boolean;
    sender?: string;
    /** The sender's id and picture, beside their name (groups). */
    senderId?: string;
    senderAvatar?: string | null;
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
    /** The acked message, for what changes add: its quote, reactions and actions. */
    message?: Msg;
    convId?: string;
    /** Members' usernames (lowercase) → ids, to highlight mentions. */
    names?: Map<string, string>;
    canDelete?: boolean;
    onDelete?: () => void;
    /** Highlighted: a reply's quote led here. */
    focused?: boolean;
  },
) {
  const store = useStore();
  const local = store.localTime.value;
  // A group change (a system message) takes no reply, reaction, edit or delete.
  const m = props.message?.kind === "system" ? undefined : props.message;
  const deleted = !!m?.deleted;
  const [tapped, setTapped] = useState(false);
  const a = deleted ? null : props.attachment;
  return (
    <li
      data-testid="message"
      data-seq={props.seq}
      data-id={props.id}
      data-mine={String(props.mine)}
      data-deleted={deleted ? "" : undefined}
      class={`group flex px-4 py-0.5 transition-colors ${
        props.mine ? "justify-end" : "justify-start"
      } ${props.focused ? "bg-amber-400/20" : ""}`}
    >
      <div class={`flex max-w-[80%] min-w-0 flex-col ${props.mine ? "items-end" : "items-start"}`}>
        {props.sender
          ? (
            <span class="mt-2 mb-0.5 flex items-center gap-1.5 px-1 text-xs font-medium text-slate-500">
              {props.senderId
                ? (
                  <Avatar
                    name={props.sender}
                    seed={props.senderId}
                    url={props.senderAvatar}
                    tiny
                  />
                )
                : null}
              <span data-testid="message-sender">{props.sender}</span>
            </span>
          )
          : null}
        {m?.replyTo && !deleted && props.convId
          ? <ReplyQuote convId={props.convId} message={m} mine={props.mine} />
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
        {deleted
          ? (
            <div
              data-testid="message-body"
              class="rounded-2xl border border-dashed border-slate-300 px-3 py-2 text-[15px] text-slate-500 italic"
            >
              Message deleted
            </div>
          )
          : a && !props.body
          ? null
          : (
            <div class="flex max-w-full items-center">
              <div
                onClick={(e) => {
                  // A tap shows the actions on a phone (a link in the text is still a link).
                  if (!(e.target as Element).closest("a")) setTapped(!tapped);
                }}
                data-testid="message-body"
                dir="auto"
                class={`rounded-2xl px-3 py-2 max-w-full min-w-0 text-[15px] leading-snug [overflow-wrap:anywhere] whitespace-pre-wrap shadow-sm ${
                  a ? "mt-1 " : ""
                }${
                  props.mine
                    ? `bg-indigo-600 text-white ${props.pending ? "opacity-70" : ""}`
                    : "border border-slate-200 bg-white text-slate-900"
                }`}
              >
                {
                  /* Exactly the body's text: client/chat.ts reads it back from here (the page
                  sends each body once, in the markup, not again in the island's props). */
                }
                <span data-text>
                  <MessageText body={props.body} names={props.names} meId={store.me.id} />
                </span>
              </div>
              {/* Actions need the script: the server's page (no JavaScript) shows none. */}
              {m && props.convId && !props.pending && local
                ? (
                  <MessageActions
                    convId={props.convId}
                    message={m}
                    mine={props.mine}
                    canDelete={!!props.canDelete}
                    shown={tapped}
                    onDelete={() => props.onDelete?.()}
                  />
                )
                : null}
            </div>
          )}
        {m && props.convId && !deleted ? <Reactions convId={props.convId} message={m} /> : null}
        {props.meta === false && !m?.editedTs
          ? null
          : (
            <span class="mt-0.5 mb-1 flex gap-1.5 px-1 text-[11px] text-slate-500">
              <time dateTime={new Date(props.ts).toISOString()} title={fullWhen(props.ts, local)}>
                {timeOf(props.ts, local)}
              </time>
              {m?.editedTs && !deleted ? <Edited ts={m.editedTs} /> : null}
              {props.status}
            </span>
          )}
      </div>
    </li>
  );
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

/** Once the oldest page is shown: where the conversation begins, so the reader knows there is
 * nothing further up (rather than a list that just stops). */
function Start(props: { id: string }) {
  const store = useStore();
  const conv = store.conversation(props.id);
  if (!conv) return null;
  return (
    <p data-testid="conversation-start" class="px-4 pt-6 pb-3 text-center text-sm text-slate-500">
      {conv.kind === "direct"
        ? (
          <>
            This is the start of your conversation with{" "}
            <strong class="font-semibold text-slate-700">
              {conv.peer?.displayName ?? conv.title}
            </strong>.
          </>
        )
        : (
          <>
            This is the start of <strong class="font-semibold text-slate-700">{conv.title}</strong>.
          </>
        )}
    </p>
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
  const [ask, setAsk] = useState<Confirmation | null>(null);
  const focus = t.focus.value;
  const names = new Map((members ?? []).map((m) => [m.username.toLowerCase(), m.id]));
  const myRole = members?.find((m) => m.id === me)?.role;
  const moderator = conv?.kind === "group" && (myRole === "owner" || myRole === "admin");

  // A reply's quote asked for its original: once it is held and drawn, bring it into view and
  // highlight it for a moment.
  useEffect(() => {
    if (focus === null) return;
    const el = box.current?.querySelector<HTMLElement>(`[data-seq="${focus}"]`);
    if (!el) return;
    store.atBottom = false;
    el.scrollIntoView({ block: "center" });
    const timer = setTimeout(() => t.focus.value = null, 2_000);
    return () => clearTimeout(timer);
  }, [focus, messages]);
  const strip = useRef<HTMLDivElement>(null);
  const stripHeight = useRef(0);

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

  // The jump strip takes its height from the bottom of the list's view. The scroll origin is
  // the bottom, so without help the messages on screen would move up by that much as it
  // appears (and down as it goes): the scroll position is moved by the same amount instead.
  useLayoutEffect(() => {
    const el = box.current!;
    if (!atBottom) {
      stripHeight.current = strip.current?.offsetHeight ?? 0;
      el.scrollTop -= stripHeight.current;
    } else if (stripHeight.current) {
      el.scrollTop = Math.min(0, el.scrollTop + stripHeight.current);
      stripHeight.current = 0;
    }
    snap.current = { ...snap.current, height: el.scrollHeight, top: el.scrollTop };
  }, [atBottom]);

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
    authors: store.authors.value,
  });
  const row = (r: Row) => {
    switch (r.kind) {
      case "day":
        return <Divider key={"d" + r.key} label={r.label} testid="date-separator" />;
      case "new":
        return <Divider key="new" label="New messages" accent testid="new-marker" />;
      case "system":
        return (
          <li
            key={"s" + r.message.seq}
            data-testid="system-line"
            data-seq={r.message.seq}
            class="px-4 py-1.5 text-center text-xs text-slate-500"
          >
            {r.text}
          </li>
        );
      case "message": {
        const m = r.message;
        if (conv?.kind === "group" && !r.mine && store.blocked.value.has(m.senderId)) {
          return <BlockedBubble key={m.id + m.seq} id={m.id} seq={m.seq} />;
        }
        return (
          <Bubble
            key={m.id + m.seq}
            id={m.id}
            seq={m.seq}
            mine={r.mine}
            sender={r.sender}
            senderId={r.sender ? m.senderId : undefined}
            senderAvatar={r.sender
              ? members?.find((x) => x.id === m.senderId)?.avatarUrl
              : undefined}
            body={m.body}
            attachment={m.attachment}
            ts={m.ts}
            meta={r.meta}
            message={m}
            convId={props.id}
            names={names}
            focused={focus === m.seq}
            canDelete={r.mine || moderator}
            onDelete={() =>
              setAsk({
                title: "Delete this message?",
                text: "It is deleted for everyone in the conversation. This cannot be undone.",
                action: "Delete",
                run: () => store.remove(props.id, m),
              })}
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
    <div class="relative flex min-h-0 flex-1 flex-col">
      <div
        ref={box}
        onScroll={onScroll}
        tabIndex={0}
        aria-label="Messages"
        class="flex min-h-0 flex-1 flex-col-reverse overflow-y-auto [overflow-anchor:none] focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-500"
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
            : <Start id={props.id} />}
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
        // A strip below the list, not a button floating over it: it never covers the newest
        // message (or our own, right-aligned ones), and the list is shifted so nothing moves.
        <div ref={strip} class="flex shrink-0 justify-end px-4 py-1.5">
          <button
            type="button"
            data-testid="jump-latest"
            onClick={jump}
            class="rounded-full bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-lg hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400"
          >
            {unseen > 0 ? `${unseen} new · ` : ""}Jump to latest ↓
          </button>
        </div>
      )}
      {/* Mounted only while asking: the group dialog has its own, with the same ids. */}
      {ask ? <Confirm ask={ask} onDone={() => setAsk(null)} /> : null}
    </div>
  );
}
