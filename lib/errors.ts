/**
 * One error type for the whole domain and one mapper to the wire, so every HTTP and WebSocket
 * error carries the same `{code, message}` shape and status.
 * @module
 */
import type { ErrorBody, ErrorCode } from "./protocol.ts";

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  username_taken: 409,
  rate_limited: 429,
  too_large: 413,
  conflict: 409,
  internal: 500,
  unavailable: 503,
};

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

  /** HTTP status that goes with the code. */
  get status(): number {
    return STATUS[this.code];
  }

  /** The wire body, without a stack trace. */
  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.field) body.field = this.field;
    if (this.retryAfterMs !== undefined) body.retryAfterMs = this.retryAfterMs;
    return body;
  }
}

/** Turns anything thrown into an AppError; unknown failures become `internal` and leak nothing. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError("internal", "Something went wrong on our side. Please try again.");
}

export const notFound = () =>
  new AppError("not_found", "That conversation does not exist or you are not a member of it.");
