/**
 * Dates, times and link detection for the chat UI. Before hydration finishes (`local` false)
 * times are formatted in UTC with a fixed locale, so the server's HTML and the browser's first
 * render agree; the browser then re-renders in its own zone and language.
 * Browser compatible, no side effects.
 * @module
 */
import type { Message } from "../lib/protocol.ts";

const DAY_MS = 86_400_000;
const cache = new Map<string, Intl.DateTimeFormat>();

function fmt(local: boolean, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = local + JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(local ? undefined : "en-US", {
      ...opts,
      ...(local ? {} : { timeZone: "UTC" }),
    });
    cache.set(key, f);
  }
  return f;
}

/** A calendar-day key ("2025-03-04") in the zone in use. */
export function dayKey(ts: number, local: boolean): string {
  const p = fmt(local, { year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(ts);
  const get = (t: string) => p.find((x) => x.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** "14:05". */
export function timeOf(ts: number, local: boolean): string {
  return fmt(local, { hour: "numeric", minute: "2-digit" }).format(ts);
}

/** "Today", "Yesterday" or "Tuesday, March 4, 2025": the text of a date separator. */
export function dayLabel(ts: number, local: boolean, now = Date.now()): string {
  const key = dayKey(ts, local);
  if (key === dayKey(now, local)) return "Today";
  if (key === dayKey(now - DAY_MS, local)) return "Yesterday";
  return fmt(local, { weekday: "long", year: "numeric", month: "long", day: "numeric" }).format(
    ts,
  );
}

/** The conversation list's short time: a time today, a weekday this week, else a date. */
export function shortWhen(ts: number, local: boolean, now = Date.now()): string {
  if (dayKey(ts, local) === dayKey(now, local)) return timeOf(ts, local);
  if (now - ts < 6 * DAY_MS) return fmt(local, { weekday: "short" }).format(ts);
  return fmt(local, { month: "short", day: "numeric" }).format(ts);
}

/** When someone was last seen, as chat apps say it: "today at 8:09 PM", "yesterday at 8:09 PM",
 * "on Tuesday", "on Mar 4, 2025". */
export function lastSeenWhen(ts: number, local: boolean, now = Date.now()): string {
  const key = dayKey(ts, local);
  if (key === dayKey(now, local)) return `today at ${timeOf(ts, local)}`;
  if (key === dayKey(now - DAY_MS, local)) return `yesterday at ${timeOf(ts, local)}`;
  if (now - ts < 6 * DAY_MS) return `on ${fmt(local, { weekday: "long" }).format(ts)}`;
  return `on ${fmt(local, { dateStyle: "medium" }).format(ts)}`;
}

/** A full timestamp for tooltips. */
export function fullWhen(ts: number, local: boolean): string {
  return fmt(local, { dateStyle: "medium", timeStyle: "short" }).format(ts);
}

/** A piece of a message body: plain text, or a link that is safe to open. */
export type Part = { text: string; href?: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

/** Whether `url` opens at least as many parentheses as it closes. */
function balancedParens(url: string): boolean {
  let depth = 0;
  for (const c of url) {
    if (c === "(") depth++;
    else if (c === ")") depth--;
  }
  return depth >= 0;
}

/** Splits a message body into text and http(s) links; nothing else becomes a link. */
export function linkify(body: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  for (const m of body.matchAll(URL_RE)) {
    let url = m[0];
    // Leave trailing punctuation (and an unbalanced closing paren) to the sentence. A closing
    // paren stays only while it has an opening one to match: "(see …/Foo_(bar))" keeps one.
    while (/[.,;:!?)\]]$/.test(url) && !(url.endsWith(")") && balancedParens(url))) {
      url = url.slice(0, -1);
    }
    let href: string | undefined;
    try {
      const u = new URL(url);
      if (u.protocol === "http:" || u.protocol === "https:") href = u.href;
    } catch { /* not a URL after all */ }
    if (!href) continue;
    if (m.index > at) parts.push({ text: body.slice(at, m.index) });
    parts.push({ text: url, href });
    at = m.index + url.length;
  }
  if (at < body.length) parts.push({ text: body.slice(at) });
  return parts;
}

/** Initials for an avatar: "Ada Lovelace" → "AL". */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return ((words[0]?.[0] ?? "?") + (words.length > 1 ? words[words.length - 1][0] : ""))
    .toUpperCase();
}

/** What the conversation list shows for a message: its text, "Photo", or the file's name. */
export function previewText(
  m: Pick<Message, "kind" | "body" | "attachment"> & { deleted?: boolean },
): string {
  if (m.deleted) return "Message deleted";
  if (m.kind === "system") return "Group updated";
  if (m.kind === "image") return "Photo";
  if (m.kind === "file") return m.attachment?.name ?? "File";
  return m.body;
}
