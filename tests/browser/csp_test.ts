import { deepStrictEqual as eq } from "node:assert/strict";
import { startServer } from "../helpers/server.ts";
import { browserTest, openChat } from "./browser.ts";

browserTest(
  "Chromium lets the page open its own socket under the CSP and blocks sockets and fetches to other hosts",
  async (env) => {
    const me = await env.user();
    // 'self' covers ws: of the same origin in Chromium: the chat's own socket opens.
    await openChat(me.page, env.server.url);
    const other = await startServer();
    try {
      const result = await me.page.evaluate(async (foreign) => {
        const violations: string[] = [];
        document.addEventListener(
          "securitypolicyviolation",
          (e) => violations.push(`${e.effectiveDirective} ${e.blockedURI}`),
        );
        let socket = "opened";
        try {
          const ws = new WebSocket(foreign.replace("http", "ws") + "/api/ws");
          socket = await new Promise<string>((resolve) => {
            ws.onopen = () => resolve("opened");
            ws.onerror = () => resolve("blocked");
          });
        } catch {
          socket = "blocked";
        }
        const fetched = await fetch(foreign + "/health").then(() => "fetched", () => "blocked");
        await new Promise((r) => setTimeout(r, 100));
        return { socket, fetched, violations: violations.map((v) => v.split(" ")[0]) };
      }, other.url);
      eq(result.socket, "blocked");
      eq(result.fetched, "blocked");
      eq(result.violations, ["connect-src", "connect-src"]);
    } finally {
      await other.close();
    }
  },
);
