/**
 * One error type for the whole domain and one table that maps it to every edge: the JSON API
 * (`apiError`), the HTML form pages (`pageError`) and WebSocket frames (`errorFrame`). Domain
 * code throws `AppError`; only these mappers decide what a client is shown, so the same failure
 * carries the same `{code, message}` everywhere.
 * @module
 */
import type { ErrorBody, ErrorCode, ServerFrame } from "./protocol.ts";

/** How each code answers: the API's HTTP status, and the status of an HTML page showing it. */
export const ERROR_TABLE: Readonly<Record<ErrorCode, { status: number; pageStatus: PageStatus }>> =
  {
    invalid_input: { status: 400, pageStatus: 400 },
    unauthorized: { status: 401, pageStatus: 401 },
    // A page never tells "exists but not yours" from "does not exist".
    forbidden: { status: 403, pageStatus: 404 },
    not_found: { status: 404, pageStatus: 404 },
    // A form shows these beside the field; the page itself is a plain "try again" (400).
    username_taken: { status: 409, pageStatus: 400 },
    rate_limited: { status: 429, pageStatus: 429 },
    too_large: { status: 413, pageStatus: 400 },
    conflict: { status: 409, pageStatus: 400 },
    internal: { status: 500, pageStatus: 500 },
    // A server that is draining for a restart: come back in a moment.
    unavailable: { status: 503, pageStatus: 503 },
  };

/** The statuses an HTML page answers with. */
export type PageStatus = 400 | 401 | 404 | 429 | 500 | 503;

/** A failure the user or client can act on; thrown by domain code, mapped once at the edge. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly retryAfterMs?: number;

  constructor(
    code: ErrorCode,
    message: string,
    extra: { field?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.field = extra.field;
    this.retryAfterMs = extra.retryAfterMs;
  }
}

/** Turns anything thrown into an AppError; unknown failures become `internal` and leak nothing. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError("internal", "Something went wrong on our side. Please try again.");
}

/** The wire body of an error, without a stack trace. */
export function errorBody(err: unknown): ErrorBody {
  const e = toAppError(err);
  const body: ErrorBody = { code: e.code, message: e.message };
  if (e.field) body.field = e.field;
  if (e.retryAfterMs !== undefined) body.retryAfterMs = e.retryAfterMs;
  return body;
}

/** An error as the JSON API answers it. */
export interface ApiError {
  status: number;
  body: { error: ErrorBody };
  /** `Retry-After` (whole seconds) for `rate_limited` or `unavailable` with a known wait. */
  headers: Record<string, string>;
}

/** Anything thrown, as the JSON API's answer: status, `{error}` body and headers. */
export function apiError(err: unknown): ApiError {
  const e = toAppError(err);
  const headers: Record<string, string> = {};
  if ((e.code === "rate_limited" || e.code === "unavailable") && e.retryAfterMs) {
    headers["Retry-After"] = String(Math.ceil(e.retryAfterMs / 1000));
  }
  return { status: ERROR_TABLE[e.code].status, body: { error: errorBody(e) }, headers };
}

/** An error as an HTML form page shows it. */
export interface PageError {
  code: ErrorCode;
  status: PageStatus;
  /** The form field at fault, or `"form"` for the form as a whole. */
  field: string;
  /** The message as a sentence (capitalised), ready to show. */
  message: string;
}

/**
 * A refusal a form page shows to the user, or null for a failure it must not show (anything
 * not an AppError, and `internal`): the caller rethrows those to the app's error handler.
 */
export function pageError(err: unknown): PageError | null {
  if (!(err instanceof AppError) || err.code === "internal") return null;
  return {
    code: err.code,
    status: ERROR_TABLE[err.code].pageStatus,
    field: err.field ?? "form",
    message: err.message.charAt(0).toUpperCase() + err.message.slice(1),
  };
}

/** Anything thrown, as the `error` frame answering the client frame `ids` names. */
export function errorFrame(
  err: unknown,
  ids: { id?: string; reqId?: string } = {},
): Extract<ServerFrame, { type: "error" }> {
  return { type: "error", ...ids, error: errorBody(err) };
}

/** The one answer for a conversation that is missing or not the caller's: never reveal which. */
export const notFound = () =>
  new AppError("not_found", "That conversation does not exist or you are not a member of it.");
