/**
 * Authentication comes before the CSRF check: a request that carries no credentials at all has
 * nothing a forger could ride on, so it is told to sign in (401), not that it came from the
 * wrong page (403). Requests that create a session stay under the CSRF check, since a forged
 * sign-in would put the victim in the forger's account.
 */
import { deepStrictEqual as eq } from "node:assert/strict";
import { directPair, withServer } from "../helpers/server.ts";

async function bare(url: string, method: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers, redirect: "manual" });
  const text = await res.text();
  return { status: res.status, code: text.startsWith("{") ? JSON.parse(text).error?.code : text };
}

Deno.test("logout and other signed-in routes without credentials answer 401, whatever the Origin", async () => {
  await withServer(async (srv) => {
    const { convId } = await directPair(srv.url);
    const routes: [string, string][] = [
      ["POST", "/api/auth/logout"],
      ["POST", `/api/conversations/${convId}/messages`],
      ["POST", `/api/conversations/${convId}/read`],
      ["POST", "/api/conversations"],
      ["PATCH", `/api/conversations/${convId}`],
      ["DELETE", `/api/conversations/${convId}/members/someone`],
    ];
    for (const [method, path] of routes) {
      // No cookie, no token, no Content-Type, no Origin.
      eq(await bare(srv.url + path, method), { status: 401, code: "unauthorized" }, path);
      eq(
        await bare(srv.url + path, method, { origin: "https://evil.example" }),
        { status: 401, code: "unauthorized" },
        `${path} from a foreign origin`,
      );
    }
  });
});

Deno.test("sign-in routes stay under the CSRF check without credentials", async () => {
  await withServer(async (srv) => {
    for (const path of ["/api/auth/login", "/api/auth/register", "/api/auth/refresh"]) {
      const res = await fetch(srv.url + path, {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "text/plain" },
        body: JSON.stringify({ username: "someone", password: "password123" }),
      });
      eq([res.status, (await res.json()).error.code], [403, "forbidden"], path);
    }
  });
});
