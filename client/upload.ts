/**
 * Uploads a file to a conversation with progress and a way to cancel. `fetch` reports no upload
 * progress, so this uses XMLHttpRequest; the session cookie rides along (same origin).
 * Browser only.
 * @module
 */
import type { Attachment, ErrorBody } from "../lib/protocol.ts";

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
      `/api/conversations/${encodeURIComponent(conversationId)}/attachments?name=${
        encodeURIComponent(name)
      }`,
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
