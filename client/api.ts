/**
 * Same-origin JSON calls to `/api/*`. The HttpOnly session cookie rides along on its own, so the
 * browser never handles tokens. Browser only.
 * @module
 */
import type { ErrorBody } from "../lib/protocol.ts";

/** An API answer that was not 2xx, with the contract's machine code. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Calls the JSON API; a 401 sends the browser to the sign-in page. */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
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
