/**
 * Attachments over HTTP: the upload (streamed, with its own size limit: the app's 64 KiB body
 * limit skips this route) and downloads of the original and the preview, with ranges and ETags.
 * Every download is served so that the browser never renders a file from the app's origin.
 * @module
 */
import { type Context, Hono } from "hono";
import type { AttachmentRecord } from "../lib/store/attachments.ts";
import { AppError } from "../lib/errors.ts";
import type { Runtime } from "../lib/runtime.ts";
import { type Env, requireAuth } from "./context.ts";

/** The upload route's path, for the middleware that must leave its body alone. */
export const UPLOAD_PATH = /^\/api\/conversations\/[^/]+\/attachments$/;

/** `filename*` per RFC 8187: UTF-8, percent-encoded beyond the attribute characters. */
export function contentDisposition(kind: "inline" | "attachment", name: string): string {
  if (kind === "inline") return "inline";
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => "%" + ch.charCodeAt(0).toString(16).toUpperCase(),
  );
  return `attachment; filename*=UTF-8''${encoded}`;
}

/**
 * The one byte range a `Range` header asks for, "unsatisfiable", or null to send everything
 * (no header, another unit, several ranges, or a header we do not understand: RFC 9110 lets a
 * server ignore those).
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | null {
  if (!header) return null;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

async function serve(rt: Runtime, c: Context<Env>, rec: AttachmentRecord, preview: boolean) {
  const isImage = rec.width !== null;
  if (preview && !isImage) {
    throw new AppError("not_found", "Only images have a preview.");
  }
  const blobId = preview && rec.preview ? rec.preview.blobId : rec.blobId;
  const manifest = await rt.attachments.blobs.stat(blobId);
  if (!manifest) throw new AppError("not_found", "That attachment is no longer available.");
  const etag = `"${manifest.sha256}"`;
  const headers = new Headers({
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=31536000, immutable",
    "ETag": etag,
    "Accept-Ranges": "bytes",
    "Content-Type": isImage
      ? (preview && rec.preview ? rec.preview.type : rec.type)
      : "application/octet-stream",
    "Content-Disposition": contentDisposition(isImage ? "inline" : "attachment", rec.name),
  });
  if (etagMatches(c.req.header("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers });
  }
  const range = parseRange(c.req.header("range"), manifest.size);
  if (range === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${manifest.size}`);
    headers.delete("Content-Type");
    return new Response(null, { status: 416, headers });
  }
  const { start, end } = range ?? { start: 0, end: manifest.size - 1 };
  headers.set("Content-Length", String(end - start + 1));
  if (range) headers.set("Content-Range", `bytes ${start}-${end}/${manifest.size}`);
  const body = c.req.method === "HEAD" ? null : rt.attachments.blobs.read(manifest, start, end);
  return new Response(body, { status: range ? 206 : 200, headers });
}

export function attachmentRoutes(rt: Runtime) {
  const auth = requireAuth(rt);
  return new Hono<Env>()
    .post("/conversations/:id/attachments", auth, async (c) => {
      const attachment = await rt.attachments.upload({
        userId: c.get("principal").user.id,
        conversationId: c.req.param("id") ?? "",
        name: c.req.query("name"),
        declaredType: c.req.header("content-type"),
        contentLength: c.req.header("content-length"),
        body: c.req.raw.body,
      });
      return c.json({ attachment }, 201);
    })
    .get("/attachments/:id", auth, async (c) => {
      const rec = await rt.attachments.forMember(
        c.get("principal").user.id,
        c.req.param("id") ?? "",
      );
      return await serve(rt, c, rec, false);
    })
    .get("/attachments/:id/preview", auth, async (c) => {
      const rec = await rt.attachments.forMember(
        c.get("principal").user.id,
        c.req.param("id") ?? "",
      );
      return await serve(rt, c, rec, true);
    });
}
