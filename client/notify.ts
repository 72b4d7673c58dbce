/**
 * Browser notifications for messages that need the reader while the tab is hidden: new direct
 * messages and mentions, never for a muted conversation, a group change, or our own message
 * sent from another tab. At most one per conversation is showing: a newer one replaces it (same
 * `tag`, the conversation's id). Permission is asked only from a control the reader presses,
 * never on page load (browsers penalise sites that ask unprompted, and readers deny them).
 * `shouldNotify` is pure and runs under `deno test`; `Notifier` is browser only.
 * @module
 */
import { type Conv, mentions, type Msg } from "./changes.ts";
import { previewText } from "./format.ts";

/** Whether a live message should raise a notification (the tab's visibility aside). */
export function shouldNotify(m: Msg, c: Conv | undefined, meId: string): boolean {
  if (!c || c.muted || m.senderId === meId || m.system || m.deleted) return false;
  return c.kind === "direct" || mentions(m, meId);
}

/** The notification's title and text: who wrote, where, and what. */
export function notificationText(
  m: Msg,
  c: Conv,
  sender: string,
): { title: string; body: string } {
  const title = c.kind === "direct" ? sender : `${sender} in ${c.title}`;
  return { title, body: previewText(m) };
}

export interface NotifierOptions {
  /** The reader clicked a notification: show its conversation. */
  onOpen(convId: string): void;
  /** The permission changed (asked, or found on start). */
  onPermission(p: NotificationPermission | "unsupported"): void;
}

export class Notifier {
  #opts: NotifierOptions;
  /** The notification showing per conversation, closed when replaced or opened. */
  #shown = new Map<string, Notification>();

  constructor(opts: NotifierOptions) {
    this.#opts = opts;
    opts.onPermission(this.permission());
  }

  permission(): NotificationPermission | "unsupported" {
    return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
  }

  /** Asks the browser for permission: call only from the reader's click. */
  async ask(): Promise<void> {
    if (typeof Notification === "undefined") return;
    try {
      await Notification.requestPermission();
    } catch { /* an old browser's callback form: the permission is read below either way */ }
    this.#opts.onPermission(this.permission());
  }

  /** Shows (or replaces) the conversation's notification, when allowed and the tab is hidden. */
  show(convId: string, text: { title: string; body: string }): void {
    if (this.permission() !== "granted" || document.visibilityState !== "hidden") return;
    this.#shown.get(convId)?.close();
    let n: Notification;
    try {
      n = new Notification(text.title, { body: text.body, tag: convId });
    } catch {
      return; // Android Chrome allows them only from a service worker: no notification.
    }
    this.#shown.set(convId, n);
    n.onclick = () => {
      globalThis.focus();
      this.#opts.onOpen(convId);
      n.close();
    };
    n.onclose = () => {
      if (this.#shown.get(convId) === n) this.#shown.delete(convId);
    };
  }

  /** The reader is back: what the notifications said is on screen now. */
  clear(convId?: string): void {
    for (const [id, n] of this.#shown) {
      if (convId === undefined || id === convId) {
        n.close();
        this.#shown.delete(id);
      }
    }
  }
}
