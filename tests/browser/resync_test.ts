import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { WebSocketRoute } from "playwright-core";
import { browserTest, createDirect, openChat, postMessage, waitForBodies } from "./browser.ts";

browserTest(
  "a catch-up lost with its connection is asked again on the next one: nothing stays missing",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user();
    const id = await createDirect(env.server.url, alice, bob);
    const post = (body: string) => postMessage(env.server.url, alice.accessToken, id, body);
    await post("first");

    // Bob's socket goes through a route that can cut it (a real close of the page's socket).
    // In "cut-on-sync" mode the next `sync` the page sends is swallowed and the connection cut
    // before any answer: the network failing at the worst moment.
    let mode: "pass" | "cut-on-sync" = "pass";
    const open: WebSocketRoute[] = [];
    await bob.page.routeWebSocket(/\/api\/ws/, (ws: WebSocketRoute) => {
      open.push(ws);
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        const text = String(m);
        if (mode === "cut-on-sync" && JSON.parse(text).type === "sync") {
          mode = "pass";
          ws.close({ code: 1006, reason: "network" });
          server.close();
          return;
        }
        server.send(m);
      });
      server.onMessage((m) => ws.send(m));
    });
    await openChat(bob.page, env.server.url, id);
    await waitForBodies(bob.page, ["first"]);
    const sockets = open.length;

    // The connection drops; Alice writes meanwhile; Bob's first catch-up on reconnect is lost
    // with the connection it went out on.
    mode = "cut-on-sync";
    open.at(-1)!.close({ code: 1006, reason: "network" });
    await post("while away");
    for (let i = 0; open.length < sockets + 2 && i < 300; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assertEquals(open.length >= sockets + 2, true, "the page reconnected twice");
    assertEquals(mode, "pass", "a catch-up was sent, and lost");
    await bob.page.waitForSelector('[data-connection="open"]');

    // The next connection asks again: the missed message shows, then live ones after it.
    await waitForBodies(bob.page, ["first", "while away"]);
    await post("live again");
    await waitForBodies(bob.page, ["first", "while away", "live again"]);
    assertEquals(bob.errors, []);
  },
);
