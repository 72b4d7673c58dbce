/**
 * Files on their way up: one entry per file the user attached, with its progress, a way to
 * cancel, and the reason when it failed (then it can be retried: the File is kept).
 *
 * An attached file starts uploading at once, but its message waits for the user, as in Slack
 * or WhatsApp: the composer's Send (`send`) releases every file attached in that conversation,
 * the first carrying the composer's text as its caption (contract part A: the `body` of an
 * image or file message). A file whose bytes are up by then goes at once, the others as soon
 * as they are (`onUploaded` hands each attachment on to be sent). One that is never sent is
 * deleted by the server after 24 hours. Browser compatible: the uploader is passed in, so it
 * runs under `deno test`.
 * @module
 */
import { signal } from "@preact/signals";
import { type Attachment, NAME_FORBIDDEN } from "../lib/protocol.ts";
import type { UploadHandle } from "./api.ts";

export interface Upload {
  /** Local only: it names the entry in the list, never anything on the server. */
  localId: string;
  conversationId: string;
  name: string;
  size: number;
  /** The caption typed with it, sent with the message. */
  caption: string;
  /** 0 to 1. */
  progress: number;
  /** Why it failed, while it waits for a retry; null while it runs. */
  failed: string | null;
  /** The bytes are up: the message waits for the user's Send. */
  ready: boolean;
  /** The user pressed Send: the message goes as soon as the bytes are up. */
  queued: boolean;
}

export type Uploader = (
  conversationId: string,
  file: Blob,
  name: string,
  onProgress: (sent: number, total: number) => void,
) => UploadHandle;

export interface UploadsOptions {
  upload: Uploader;
  /** An upload finished: send its attachment (the message goes through the outbox). */
  onUploaded(conversationId: string, attachment: Attachment, caption: string): void;
  newId?: () => string;
}

/** A file's name as the server takes it: 1-255 code points, no control or direction marks. */
export function uploadName(name: string): string {
  const clean = name.replace(new RegExp(NAME_FORBIDDEN.source, "g"), "")
    .trim();
  const cps = [...(clean || "file")];
  if (cps.length <= 255) return cps.join("");
  const dot = clean.lastIndexOf(".");
  const ext = dot > 0 && clean.length - dot <= 16 ? [...clean.slice(dot)] : [];
  return [...cps.slice(0, 255 - ext.length), ...ext].join("");
}

export class Uploads {
  /** Every upload in flight or failed, oldest first. */
  readonly list = signal<Upload[]>([]);
  #opts: UploadsOptions;
  #newId: () => string;
  #files = new Map<string, Blob>();
  #handles = new Map<string, UploadHandle>();
  /** Attachments whose bytes are up, until their message is handed on. */
  #uploaded = new Map<string, Attachment>();

  constructor(opts: UploadsOptions) {
    this.#opts = opts;
    this.#newId = opts.newId ?? (() => crypto.randomUUID());
  }

  /** The uploads of one conversation. */
  of(conversationId: string): Upload[] {
    return this.list.value.filter((u) => u.conversationId === conversationId);
  }

  /** The uploads of one conversation that wait for the user's Send (running, up, or failed). */
  attached(conversationId: string): Upload[] {
    return this.of(conversationId).filter((u) => !u.queued);
  }

  /**
   * Starts uploading a file (a picked, dropped or pasted one). Its message goes when `send` is
   * called for the conversation, or, with `queued`, as soon as the bytes are up.
   */
  add(
    conversationId: string,
    file: Blob,
    name: string,
    opts: { caption?: string; queued?: boolean } = {},
  ): Upload {
    const u: Upload = {
      localId: this.#newId(),
      conversationId,
      name: uploadName(name),
      size: file.size,
      caption: opts.caption ?? "",
      progress: 0,
      failed: null,
      ready: false,
      queued: opts.queued ?? false,
    };
    this.#files.set(u.localId, file);
    this.list.value = [...this.list.value, u];
    this.#start(u);
    return u;
  }

  /**
   * The composer's Send: every file attached in the conversation goes as a message, the first
   * one that has not failed with `caption` as its body (a failed one goes once retried). True
   * when there was anything to send.
   */
  send(conversationId: string, caption: string): boolean {
    const held = this.attached(conversationId);
    if (!held.length) return false;
    const first = held.find((u) => !u.failed) ?? held[0];
    for (const u of held) {
      this.#patch(u.localId, { queued: true, caption: u === first ? caption : u.caption });
    }
    for (const u of held) if (this.#uploaded.has(u.localId)) this.#deliver(u.localId);
    return true;
  }

  /** Stops an upload (or forgets a failed one); nothing of it is kept anywhere. */
  cancel(localId: string): void {
    const h = this.#handles.get(localId);
    this.#forget(localId);
    h?.abort();
  }

  /** Uploads a failed one again, from the start. */
  retry(localId: string): void {
    const u = this.list.value.find((x) => x.localId === localId);
    if (!u || !u.failed) return;
    this.#patch(localId, { failed: null, progress: 0 });
    this.#start({ ...u, failed: null, progress: 0 });
  }

  #start(u: Upload): void {
    const file = this.#files.get(u.localId)!;
    const handle = this.#opts.upload(u.conversationId, file, u.name, (sent, total) => {
      this.#patch(u.localId, { progress: total > 0 ? Math.min(1, sent / total) : 1 });
    });
    this.#handles.set(u.localId, handle);
    handle.done.then(
      (attachment) => {
        if (this.#handles.get(u.localId) !== handle) return;
        this.#handles.delete(u.localId);
        this.#uploaded.set(u.localId, attachment);
        const now = this.list.value.find((x) => x.localId === u.localId);
        if (now?.queued) this.#deliver(u.localId);
        else this.#patch(u.localId, { ready: true, progress: 1 });
      },
      (err: { code?: string; message?: string }) => {
        if (this.#handles.get(u.localId) !== handle) return;
        this.#handles.delete(u.localId);
        if (err?.code === "aborted") return this.#forget(u.localId);
        this.#patch(u.localId, { failed: err?.message ?? "The upload failed." });
      },
    );
  }

  /** Hands an uploaded file's attachment on, with its caption, and forgets the entry. */
  #deliver(localId: string): void {
    const u = this.list.value.find((x) => x.localId === localId);
    const attachment = this.#uploaded.get(localId);
    if (!u || !attachment) return;
    this.#forget(localId);
    this.#opts.onUploaded(u.conversationId, attachment, u.caption);
  }

  #patch(localId: string, change: Partial<Upload>): void {
    this.list.value = this.list.value.map((u) => u.localId === localId ? { ...u, ...change } : u);
  }

  #forget(localId: string): void {
    this.#files.delete(localId);
    this.#handles.delete(localId);
    this.#uploaded.delete(localId);
    this.list.value = this.list.value.filter((u) => u.localId !== localId);
  }
}
