/**
 * Compresses the HTML pages on their way out, with brotli or gzip as the browser accepts (a
 * chat page with its latest messages is tens of kilobytes of repetitive markup). Only
 * `text/html`: built files are compressed once at build time (routes/static.ts), JSON answers
 * are small, and attachments are mostly compressed already. Pages are rendered to a string
 * anyway, so the body is compressed whole, off the event loop (node:zlib's thread pool).
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Below this many bytes compressing saves less than it costs. */
const MIN_BYTES = 1024;

/** The encoding to send for an `Accept-Encoding` value: br, then gzip, else none. */
export function pickEncoding(accept: string | undefined): "br" | "gzip" | null {
  const offered = new Map<string, number>();
  for (const part of (accept ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    offered.set(name, q ? Number(q.slice(2)) || 0 : 1);
  }
  const ok = (name: string) => (offered.get(name) ?? offered.get("*") ?? 0) > 0;
  return ok("br") ? "br" : ok("gzip") ? "gzip" : null;
}

/** The middleware: wraps every route, compresses what answers as HTML. */
export const compressPages: MiddlewareHandler = async (c, next) => {
  await next();
  const res = c.res;
  if (
    !res.body || c.req.method === "HEAD" || res.headers.has("Content-Encoding") ||
    !(res.headers.get("Content-Type") ?? "").startsWith("text/html")
  ) return;
  res.headers.append("Vary", "Accept-Encoding");
  const encoding = pickEncoding(c.req.header("Accept-Encoding"));
  if (!encoding) return;
  const raw = new Uint8Array(await res.arrayBuffer());
  const body = raw.length < MIN_BYTES ? raw : new Uint8Array(
    encoding === "br"
      // Quality 5: most of brotli's gain at a few milliseconds for a large page.
      ? await brotli(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } })
      : await gzipped(raw, { level: 6 }),
  );
  c.res = new Response(body, { status: res.status, headers: res.headers });
  c.res.headers.delete("Content-Length");
  if (body !== raw) c.res.headers.set("Content-Encoding", encoding);
};
