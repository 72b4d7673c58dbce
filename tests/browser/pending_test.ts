import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { WebSocketRoute } from "playwright-core";
import { api } from "../helpers/server.ts";
import { browserTest, createDirect, send, waitForBodies } from "./browser.ts";

/** How the page's WebSocket is treated: passed through, passed through with every `ack`
 * dropped (the message is stored but the page never hears so), or never answered. */
type Mode = "pass" | "drop-acks" | "silent";

function withoutAcks(data: string): string | null {
  const parsed = JSON.parse(data);
  const frames = (Array.isArray(parsed) ? parsed : [parsed]).filter((f) => f.type !== "ack");
  return frames.length ? JSON.stringify(frames.length === 1 ? frames[0] : frames) : null;
}

browserTest(
  "unacked sends survive a reload and go out again with the same id, stored once",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user();
    const id = await createDirect(env.server.url, alice, bob);
    const history = async () =>
      (await api(env.server.url, "GET", `/api/conversations/${id}/messages`, {
        token: bob.accessToken,
      })).body.messages.map((m: { body: string }) => m.body);

    let mode: Mode = "drop-acks";
    await alice.page.routeWebSocket(/\/api\/ws/, (ws: WebSocketRoute) => {
      if (mode === "silent") return; // mocked: open, but no `ready` ever comes
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        const out = mode === "drop-acks" ? withoutAcks(String(m)) : String(m);
        if (out !== null) ws.send(out);
      });
    });
    const page = alice.page;
    const sending = page.getByTestId("message-status").filter({ hasText: "Sending…" });

    // 1. The server stores the message but its ack is lost: after a reload the server's HTML
    //    has it, and the copy kept in sessionStorage is recognised (same id), not shown twice.
    await page.goto(`${env.server.url}/chat/${id}`);
    await page.waitForSelector('[data-connection="open"]');
    await send(page, "stored, ack lost");
    await sending.waitFor();
    for (let i = 0; (await history()).length === 0 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assertEquals(await history(), ["stored, ack lost"]);
    mode = "pass";
    await page.reload();
    await page.waitForSelector('[data-connection="open"]');
    await waitForBodies(page, ["stored, ack lost"]);
    await page.getByTestId("message-status").filter({ hasText: "Sent" }).waitFor();

    // 2. The socket never becomes ready: the message waits as "Sending…", survives the reload,
    //    and goes out once the connection works.
    mode = "silent";
    await page.reload();
    await page.getByTestId("composer").waitFor();
    await send(page, "never reached the server");
    await sending.waitFor();
    assertEquals(await history(), ["stored, ack lost"]);
    mode = "pass";
    await page.reload();
    await page.waitForSelector('[data-connection="open"]');
    await waitForBodies(page, ["stored, ack lost", "never reached the server"]);
    await page.getByTestId("message-status").filter({ hasText: "Sent" }).waitFor();
    assertEquals(await sending.count(), 0);
    assertEquals(await history(), ["stored, ack lost", "never reached the server"]);
    // Nothing is left pending in the tab's storage once everything is acked.
    assertEquals(
      await page.evaluate(() =>
        Object.keys(sessionStorage).filter((k) => k.startsWith("parley:pending:"))
      ),
      [],
    );
    // A reload now shows each message once.
    await page.reload();
    await page.waitForSelector('[data-connection="open"]');
    await waitForBodies(page, ["stored, ack lost", "never reached the server"]);
    assertEquals(alice.errors, []);
  },
);
