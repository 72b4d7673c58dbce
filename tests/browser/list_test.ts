/**
 * The conversation list in the browser: scrolling loads the next pages, and archiving and
 * unarchiving from the list (with another member's message bringing one back).
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { createGroup } from "../../lib/store/conversations.ts";
import { browserTest, createDirect, openChat, postMessage, shot } from "./browser.ts";

browserTest(
  "scrolling the list loads the next pages until every conversation is there",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user();
    // 130 groups: the first page holds 50; the rest come as the list scrolls.
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) {
      ids.push((await createGroup(env.server.kv, alice.user.id, `Group ${i}`, [bob.user.id])).id);
    }
    await openChat(alice.page, env.server.url);
    const items = alice.page.getByTestId("conversation-item");
    eq(await items.count(), 50);
    await shot(alice.page, "list-first-page");
    for (let i = 0; i < 20 && (await items.count()) < 130; i++) {
      await alice.page.getByRole("navigation", { name: "Conversations" }).evaluate((el) =>
        el.scrollTop = el.scrollHeight
      );
      await alice.page.waitForTimeout(200);
    }
    eq(await items.count(), 130);
    const shown = await items.evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    eq(new Set(shown), new Set(ids), "each conversation once");
    eq(shown.length, 130);
    await alice.page.getByTestId("list-more").waitFor({ state: "detached" });
    eq(alice.errors, []);
  },
);

browserTest(
  "archive and unarchive from the list; a message from the other brings it back",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user();
    const carol = await env.user();
    const withBob = await createDirect(env.server.url, alice, bob);
    const withCarol = await createDirect(env.server.url, alice, carol);
    await postMessage(env.server.url, bob.accessToken, withBob, "from bob");
    await postMessage(env.server.url, carol.accessToken, withCarol, "from carol");
    await openChat(alice.page, env.server.url);
    const item = (id: string) =>
      alice.page.locator(`li:has([data-testid="conversation-item"][data-id="${id}"])`);
    await item(withBob).getByRole("button", { name: `Archive ${bob.user.displayName}` }).click();
    await item(withBob).waitFor({ state: "detached" });
    ok(await item(withCarol).isVisible());

    // In the Archived view it is there, and it stays archived after a reload.
    await alice.page.getByTestId("archived-view").click();
    await item(withBob).waitFor();
    eq(await alice.page.getByTestId("conversation-item").count(), 1);
    await shot(alice.page, "list-archived-view");
    await openChat(alice.page, env.server.url);
    ok(!(await item(withBob).isVisible()));
    await alice.page.getByTestId("archived-view").click();
    await item(withBob).getByRole("button", { name: `Unarchive ${bob.user.displayName}` }).click();
    await item(withBob).waitFor({ state: "detached" });
    await alice.page.getByTestId("archived-view").click();
    await item(withBob).waitFor();

    // Archived again, then Bob writes: it comes back to the list live.
    await item(withBob).getByRole("button", { name: `Archive ${bob.user.displayName}` }).click();
    await item(withBob).waitFor({ state: "detached" });
    await postMessage(env.server.url, bob.accessToken, withBob, "are you there?");
    await item(withBob).getByTestId("conversation-preview").filter({ hasText: "are you there?" })
      .waitFor();
    const res = await fetch(`${env.server.url}/api/conversations?archived=1`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    eq((await res.json()).conversations, []);
    eq(alice.errors, []);
  },
);
