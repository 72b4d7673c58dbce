/**
 * The Content-Security-Policy lets a page's script talk only to its own origin (and the
 * configured ALLOWED_ORIGINS): with `connect-src ws: wss:` an injected script could open a
 * socket to any host and carry data away. `base-uri` stops an injected `<base>` from moving
 * every relative URL elsewhere.
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { withServer } from "../helpers/server.ts";

function directives(header: string | null): Map<string, string[]> {
  ok(header, "the page has a CSP");
  return new Map(
    header.split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map((
      [name, ...values],
    ) => [name, values]),
  );
}

Deno.test("CSP connect-src names only the app's own origin, and base-uri is set", async () => {
  await withServer(async (srv) => {
    for (const path of ["/login", "/api/me", "/health"]) {
      const res = await fetch(srv.url + path, { redirect: "manual" });
      await res.body?.cancel();
      const csp = directives(res.headers.get("content-security-policy"));
      eq(csp.get("connect-src"), ["'self'"], path);
      eq(csp.get("base-uri"), ["'none'"], path);
    }
  });
});

Deno.test("CSP connect-src adds ALLOWED_ORIGINS, over HTTP and WebSocket", async () => {
  await withServer(async (srv) => {
    const res = await fetch(srv.url + "/login");
    await res.body?.cancel();
    const csp = directives(res.headers.get("content-security-policy"));
    eq(csp.get("connect-src"), [
      "'self'",
      "https://friend.example",
      "wss://friend.example",
      "http://localhost:9000",
      "ws://localhost:9000",
    ]);
  }, { ALLOWED_ORIGINS: "https://friend.example,http://localhost:9000" });
});
