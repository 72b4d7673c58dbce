/**
 * Every call the browser makes to the server's API, one typed function per endpoint: the only
 * place in client/, islands/ and components/ that spells an `/api` URL, so a route that moves
 * or changes its answer is changed here and the type checker finds every caller. Same-origin;
 * the HttpOnly session cookie rides along on its own, so the browser never handles tokens.
 * Browser only.
 * @module
 */
import type {
  Attachment,
  Conversation,
  ConversationPage,
  ErrorBody,
  HistoryPage,
  Member,
  UserWithPresence,
} from "../lib/protocol.ts";

/** An API answer that was not 2xx, with the contract's machine code. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** A page of a conversation's history, ascending by seq, with its senders' profiles. */
export type { HistoryPage };

/** What `createConversation` takes: a direct chat with one user, or a new group. */
export type NewConversation =
  | { kind: "direct"; userId: string }
  | { kind: "group"; title: string; memberIds: string[] };

/** The number of messages one history request asks for. */
export const PAGE_SIZE = 50;

const conv = (id: string) => `/api/conversations/${encodeURIComponent(id)}`;
const member = (id: string, userId: string) => `${conv(id)}/members/${encodeURIComponent(userId)}`;

/** Calls the JSON API; a 401 sends the browser to the sign-in page. */
async function call<T = void>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) {
    location.assign("/login");
    throw new ApiError(401, "unauthorized", "Your session has ended. Please sign in again.");
  }
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err: ErrorBody | undefined = data?.error;
    throw new ApiError(
      res.status,
      err?.code ?? "internal",
      err?.message ?? "Something went wrong.",
    );
  }
  return data as T;
}

/** The WebSocket endpoint on the page's own host (`wss:` when the page is https). */
export function socketUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/api/ws`;
}

/** Whether the session still holds: false only on a 401 (a network error throws). Unlike the
 * other calls it does not navigate; the caller decides. */
export async function sessionAlive(): Promise<boolean> {
  const res = await fetch("/api/me", { credentials: "same-origin" });
  await res.body?.cancel();
  return res.status !== 401;
}

/** One page of the signed-in user's conversations (the archived ones with `archived`), most
 * recent activity first; `cursor` is the previous page's `nextCursor`. */
export function listConversations(
  opts: { cursor?: string | null; archived?: boolean } = {},
): Promise<ConversationPage> {
  const q = new URLSearchParams();
  if (opts.cursor) q.set("cursor", opts.cursor);
  if (opts.archived) q.set("archived", "1");
  const query = q.size ? `?${q}` : "";
  return call("GET", `/api/conversations${query}`);
}

/** Sets the signed-in user's `muted` and `archived` for a conversation. */
export function setSettings(
  id: string,
  patch: { muted?: boolean; archived?: boolean },
): Promise<void> {
  return call("PATCH", `${conv(id)}/settings`, patch);
}

/** One conversation with its members (roles, presence, read cursors). */
export function getConversation(
  id: string,
): Promise<{ conversation: Conversation; members: Member[] }> {
  return call("GET", conv(id));
}

/** The latest page of history, or the page just below `before`. */
export function getMessages(id: string, before?: number): Promise<HistoryPage> {
  const from = before === undefined ? "" : `before=${before}&`;
  return call("GET", `${conv(id)}/messages?${from}limit=${PAGE_SIZE}`);
}

/** Finds users by name or username. */
export function searchUsers(q: string): Promise<{ users: UserWithPresence[] }> {
  return call("GET", `/api/users?q=${encodeURIComponent(q)}`);
}

/** Starts (or finds) a direct chat, or creates a group. */
export function createConversation(
  input: NewConversation,
): Promise<{ conversation: Conversation }> {
  return call("POST", "/api/conversations", input);
}

/** Renames a group. */
export function renameConversation(id: string, title: string): Promise<void> {
  return call("PATCH", conv(id), { title });
}

/** Adds a user to a group. */
export function addMember(id: string, userId: string): Promise<void> {
  return call("POST", `${conv(id)}/members`, { userId });
}

/** Makes a member an admin or a plain member again. */
export function setRole(id: string, userId: string, role: "admin" | "member"): Promise<void> {
  return call("PATCH", member(id, userId), { role });
}

/** Removes a member from a group (yourself: leaves it). */
export function removeMember(id: string, userId: string): Promise<void> {
  return call("DELETE", member(id, userId));
}

// ---- uploads ---------------------------------------------------------------------------------
// `fetch` reports no upload progress, so an upload goes through XMLHttpRequest.

/** Why an upload failed, with the contract's code ("aborted" when cancelled here). */
export class UploadError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface UploadHandle {
  done: Promise<Attachment>;
  /** Stops the upload; `done` rejects with code "aborted". Nothing is kept on the server. */
  abort(): void;
}

/**
 * Starts uploading `file` into a conversation.
 * @example
 * const up = uploadFile(convId, file, file.name, (sent, total) => bar.value = sent / total);
 * const attachment = await up.done;
 */
export function uploadFile(
  conversationId: string,
  file: Blob,
  name: string,
  onProgress: (sent: number, total: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<Attachment>((resolve, reject) => {
    xhr.open(
      "POST",
      `${conv(conversationId)}/attachments?name=${encodeURIComponent(name)}`,
    );
    xhr.setRequestHeader("content-type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let data: { attachment?: Attachment; error?: ErrorBody } | null = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch { /* not JSON: a proxy's page */ }
      if (xhr.status === 201 && data?.attachment) return resolve(data.attachment);
      if (xhr.status === 401) location.assign("/login");
      reject(
        new UploadError(
          xhr.status,
          data?.error?.code ?? "internal",
          data?.error?.message ?? "The upload failed. Please try again.",
        ),
      );
    };
    xhr.onerror = () =>
      reject(new UploadError(0, "network", "The connection dropped during the upload."));
    xhr.onabort = () => reject(new UploadError(0, "aborted", "Upload cancelled."));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

/** Blocks (`on`) or unblocks a user for the signed-in user. */
export async function setBlocked(userId: string, on: boolean): Promise<void> {
  await call(on ? "PUT" : "DELETE", `/api/me/blocks/${encodeURIComponent(userId)}`);
}

/** Uploads a new avatar (the settings page crops it to a square first). */
export async function putAvatar(image: Blob): Promise<void> {
  const res = await fetch("/api/me/avatar", {
    method: "PUT",
    credentials: "same-origin",
    body: image,
  });
  if (res.ok) return;
  const data = await res.json().catch(() => null);
  throw new ApiError(
    res.status,
    data?.error?.code ?? "internal",
    data?.error?.message ?? "The picture could not be saved.",
  );
}
