/**
 * `/static/*`: the built CSS and island bundles. Hono's Deno `serveStatic` hands the path to
 * `Deno.open`, which throws a TypeError on a NUL byte, and Hono then prints it with
 * `console.warn` (as it does every other error but NotFound: a name too long, a file used as a
 * folder): anyone could write a line to our log per request. Paths that cannot name a built
 * file (undecodable, NUL or other control characters, backslashes, dot segments, overlong) are
 * refused here first, only a path that is a regular file is handed on, and whatever is not
 * served is a plain 404 rather than the pages' redirect.
 * @module
 */
import { Hono } from "hono";
import { serveStatic } from "hono/deno";
import { setAssetLookup } from "../components/assets.ts";
import type { Env } from "./context.ts";

/** A file named for its content (scripts/build.ts): it never changes, so it is cached a year. */
const HASHED = /\.[0-9a-f]{16}\.[a-z]+$/;

/**
 * The build's manifest (plain path → hashed path) as a lookup that follows rebuilds: it is read
 * again when the file's modification time changes (`deno task dev` rebuilds while serving), at
 * the cost of one `stat` per page. No manifest (assets not built) maps nothing.
 */
export function manifestLookup(root: string): (path: string) => string | undefined {
  const file = `${root.replace(/\/$/, "")}/manifest.json`;
  let seen: number | null | undefined;
  let map: Record<string, string> = {};
  return (path) => {
    let mtime: number | null = null;
    try {
      mtime = Deno.statSync(file).mtime?.getTime() ?? 0;
    } catch { /* not built */ }
    if (mtime !== seen) {
      seen = mtime;
      try {
        map = mtime === null ? {} : JSON.parse(Deno.readTextFileSync(file));
      } catch {
        map = {}; // being rewritten: plain paths until the next look
        seen = undefined;
      }
    }
    return map[path];
  };
}

/** Decodes a request path; null when it is not a path a built file could have. */
export function safeStaticPath(path: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(decoded)) return null;
  const segments = decoded.split("/");
  if (segments.some((seg) => seg === "." || seg === ".." || seg.length > 200)) return null;
  if (decoded.length > 1024) return null;
  return decoded;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

const notFound = { error: { code: "not_found", message: "There is no such file." } };

/**
 * The static file routes over `root` (the build folder). Hashed files are `immutable` for a
 * year; plain names (kept for pages rendered before a deploy) for 5 minutes. The build's `.br`
 * and `.gz` variants are sent when the browser accepts them, and every answer says it varies by
 * `Accept-Encoding`, so no cache hands brotli to a browser that asked for none.
 */
export function staticRoutes(root: string) {
  setAssetLookup(manifestLookup(root));
  const files = serveStatic({
    root,
    precompressed: true,
    rewriteRequestPath: (p) => p.replace(/^\/static/, ""),
    onFound: (path, c) => {
      c.header(
        "Cache-Control",
        HASHED.test(path) ? "public, max-age=31536000, immutable" : "public, max-age=300",
      );
    },
  });
  return new Hono<Env>().get("/*", async function staticFiles(c, next) {
    const path = safeStaticPath(c.req.path);
    if (path === null || !await isFile(root + path.replace(/^\/static\//, ""))) {
      return c.json(notFound, 404);
    }
    const res = await files(c, next);
    // Also on the uncompressed answer (Hono only says so on a compressed one).
    c.res.headers.set("Vary", "Accept-Encoding");
    return res;
  }).get("/*", (c) => c.json(notFound, 404));
}
