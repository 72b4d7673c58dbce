/**
 * The request-body bound every route sits behind (64 KiB), as Hono's `bodyLimit` does it, but
 * with the read of a chunked body guarded: a body whose chunked framing is broken makes the read
 * throw (`BadResource`), and that is the client's fault, a 400, not a 500 with a stack in the
 * log. Bodies with a Content-Length are checked by their header and read later by the route.
 * @module
 */
import type { Context, Next } from "hono";
import { AppError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";

const tooLarge = (maxBytes: number) =>
  new AppError("too_large", `The request body is larger than ${maxBytes / 1024} KiB.`);

/** Middleware: refuses bodies over `maxBytes` with 413 and unreadable ones with 400. */
export function limitBody(maxBytes: number) {
  return async function limitBody(c: Context, next: Next) {
    const raw = c.req.raw;
    if (!raw.body) return await next();
    const declared = raw.headers.get("content-length");
    if (declared !== null && !raw.headers.has("transfer-encoding")) {
      if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
      return await next();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = raw.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > maxBytes) throw tooLarge(maxBytes);
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      log.debug("request body unreadable", { path: c.req.path, error: String(err) });
      throw new AppError("invalid_input", "The request body could not be read.");
    } finally {
      reader.releaseLock();
    }
    const body = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) at += (body.set(chunk, at), chunk.length);
    // Built from its parts, not `new Request(raw, …)`: copying the request copies its signal,
    // and touching the signal makes Deno.serve print a deprecation warning to the log.
    c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body });
    await next();
  };
}
