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
import type { Env } from "./context.ts";

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

/** The static file routes over `root` (the build folder), with long-lived caching off. */
export function staticRoutes(root: string) {
  const files = serveStatic({
    root,
    rewriteRequestPath: (p) => p.replace(/^\/static/, ""),
    onFound: (_path, c) => c.header("Cache-Control", "public, max-age=300"),
  });
  return new Hono<Env>().get("/*", async function staticFiles(c, next) {
    const path = safeStaticPath(c.req.path);
    if (path === null || !await isFile(root + path.replace(/^\/static\//, ""))) {
      return c.json(notFound, 404);
    }
    return await files(c, next);
  }).get("/*", (c) => c.json(notFound, 404));
}
