/**
 * Our messages not yet acked. Each is shown at once as pending and put on the wire again with
 * the same id until the server acks it (the server answers a repeated id with the first ack, so
 * a resend never stores a message twice). A refusal marks it failed, with the reason, until the
 * user retries; a rate limit only delays it. Mirrored to the tab's session storage, so sends
 * outlive a reload and go out again with the same ids. Browser compatible: the transport, the
 * storage and the clock are passed in, so it runs under `deno test`.
 * @module
 */
import type { Attachment, ClientFrame } from "../lib/protocol.ts";

/** A message of ours not yet acked. */
export interface Outgoing {
  id: string;
  conversationId: string;
  body: string;
  ts: number;
  /** When it was last put on the wire (0: not yet); resent while unacked. */
  sentAt: number;
  /** Why the server refused it for good, if it did. */
  failed: string | null;
  /** For an image or file message: its upload (already stored), shown while pending. */
  attachment?: Attachment;
  /** The seq of the message this one replies to. */
  replyTo?: number;
}

/** The part of the Web Storage API the outbox uses (the tab's `sessionStorage`). */
export type KeyStorage = Pick<Storage, "getItem" | "setItem" | "removeItem" | "key" | "length">;

export interface OutboxOptions {
  /** Puts a frame on the socket; false when it is not open (the send waits for the next try). */
  transport(frame: ClientFrame): boolean;
  /** A conversation's pending list changed (to show it). */
  onChange(conversationId: string, list: Outgoing[]): void;
  now?: () => number;
  newId?: () => string;
}

/** An unacked send is put on the wire again after this long. */
export const RESEND_MS = 4_000;
/** Storage key prefix of a conversation's unacked sends. */
export const PENDING_KEY = "parley:pending:";

export class Outbox {
  #opts: OutboxOptions;
  #now: () => number;
  #newId: () => string;
  #lists = new Map<string, Outgoing[]>();
  /** Set once the page runs in a browser (`attach`): from then on lists are mirrored to it. */
  #storage: KeyStorage | null = null;

  constructor(opts: OutboxOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#newId = opts.newId ?? (() => crypto.randomUUID());
  }

  /** A conversation's pending sends, oldest first. */
  list(convId: string): Outgoing[] {
    return this.#lists.get(convId) ?? [];
  }

  /** Queues a message (with `attachment`: an image or file message, `body` its caption) and
   * tries to send it at once. */
  add(convId: string, body: string, attachment?: Attachment, replyTo?: number): Outgoing {
    const o: Outgoing = {
      id: this.#newId(),
      conversationId: convId,
      body,
      ts: this.#now(),
      sentAt: 0,
      failed: null,
      ...(attachment ? { attachment } : {}),
      ...(replyTo !== undefined ? { replyTo } : {}),
    };
    this.#set(convId, [...this.list(convId), o]);
    this.flush();
    return o;
  }

  /** Tries a refused message again. */
  retry(convId: string, id: string): void {
    this.#set(
      convId,
      this.list(convId).map((o) => o.id === id ? { ...o, failed: null, sentAt: 0 } : o),
    );
    this.flush();
  }

  /** Puts on the wire every send not refused and not sent within `RESEND_MS`. */
  flush(): void {
    const now = this.#now();
    for (const list of this.#lists.values()) {
      for (const o of list) {
        if (o.failed || (o.sentAt && now - o.sentAt < RESEND_MS)) continue;
        const frame: ClientFrame & { replyTo?: number } = o.attachment
          ? {
            type: "send",
            id: o.id,
            conversationId: o.conversationId,
            kind: o.attachment.width !== null ? "image" : "file",
            attachmentId: o.attachment.id,
            body: o.body,
          }
          : { type: "send", id: o.id, conversationId: o.conversationId, body: o.body };
        if (o.replyTo !== undefined) frame.replyTo = o.replyTo;
        const sent = this.#opts.transport(frame);
        if (sent) o.sentAt = now;
      }
    }
  }

  /** A new socket is ready: what went out on the old one may be lost, so all go again. */
  reset(): void {
    for (const list of this.#lists.values()) for (const o of list) o.sentAt = 0;
    this.flush();
  }

  /** The send with this id, if it is still pending. */
  find(convId: string, id: string): Outgoing | undefined {
    return this.list(convId).find((o) => o.id === id);
  }

  /** Messages with these ids are in the conversation now: they are no longer pending. */
  delivered(convId: string, ids: Set<string>): void {
    const list = this.list(convId);
    if (list.some((o) => ids.has(o.id))) this.#set(convId, list.filter((o) => !ids.has(o.id)));
  }

  /** The server refused the send with this id: later when rate limited, else for good. */
  refused(id: string, error: { code: string; message: string; retryAfterMs?: number }): void {
    for (const [convId, list] of this.#lists) {
      const o = list.find((p) => p.id === id);
      if (!o) continue;
      if (error.code === "rate_limited") {
        o.sentAt = this.#now() + (error.retryAfterMs ?? 1000) - RESEND_MS;
      } else {
        this.#set(convId, list.map((p) => p === o ? { ...p, failed: error.message } : p));
      }
    }
  }

  /** We left the conversation: its sends will never go. */
  drop(convId: string): void {
    if (this.list(convId).length) this.#set(convId, []);
    this.#lists.delete(convId);
  }

  /** Starts mirroring to `storage` and takes back the sends a previous page in this tab had
   * not seen acked. Those of conversations we are no longer in, and those already shown
   * (acked, the ack lost), are dropped; the rest go out on the next `reset`/`flush`. */
  attach(
    storage: KeyStorage,
    known: (convId: string) => boolean,
    shown: (convId: string) => Set<string>,
  ): void {
    this.#storage = storage;
    const keys: string[] = [];
    try {
      for (let i = 0; i < storage.length; i++) {
        const k = storage.key(i);
        if (k?.startsWith(PENDING_KEY)) keys.push(k);
      }
    } catch {
      return;
    }
    for (const key of keys) {
      const convId = key.slice(PENDING_KEY.length);
      let saved: Outgoing[] = [];
      try {
        saved = JSON.parse(storage.getItem(key) ?? "[]");
      } catch { /* unreadable: dropped below */ }
      if (!known(convId) || !Array.isArray(saved)) {
        storage.removeItem(key);
        continue;
      }
      const have = new Set([...shown(convId), ...this.list(convId).map((o) => o.id)]);
      const back = saved.filter((o) => o && typeof o.id === "string" && !have.has(o.id))
        .map((o) => ({ ...o, conversationId: convId, sentAt: 0 }));
      this.#set(convId, [...this.list(convId), ...back]);
    }
  }

  /** Replaces a conversation's list, tells the view, and mirrors it to storage. */
  #set(convId: string, list: Outgoing[]): void {
    this.#lists.set(convId, list);
    this.#opts.onChange(convId, list);
    if (!this.#storage) return;
    try {
      const key = PENDING_KEY + convId;
      if (list.length) {
        this.#storage.setItem(key, JSON.stringify(list.map(({ sentAt: _, ...o }) => o)));
      } else this.#storage.removeItem(key);
    } catch { /* storage full or blocked: they are only kept in memory */ }
  }
}
