/**
 * The chat UI as a new user meets it (issue 14): each test is one defect a person noticed,
 * checked in a real Chromium against a real server.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest, createDirect, openChat, postMessage, shot } from "./browser.ts";

const PHONE = { width: 390, height: 844 };

/** How far the page and the message list can scroll sideways, in CSS pixels. */
function sideways(page: Page): Promise<{ page: number; list: number }> {
  return page.evaluate(() => {
    const list = document.querySelector('[data-testid="message-scroller"]')!;
    return {
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      list: list.scrollWidth - list.clientWidth,
    };
  });
}

browserTest(
  "long unbroken text wraps inside its bubble on a phone; a link in parentheses keeps its own )",
  async (env) => {
    const ada = await env.user({ displayName: "Ada", viewport: PHONE });
    const bob = await env.user({ displayName: "Bob" });
    const id = await createDirect(env.server.url, bob, ada);
    const token = "sk_live_" + "A1b2C3d4E5".repeat(20);
    const path = "/var/lib/parley/" + "very-long-directory-name/".repeat(8) + "file.txt";
    for (
      const body of [token, path, "See (https://en.wikipedia.org/wiki/Ada_(programming_language))."]
    ) {
      await postMessage(env.server.url, bob.accessToken, id, body);
    }
    await openChat(ada.page, env.server.url, id);
    await ada.page.getByTestId("message-body").filter({ hasText: "wikipedia" }).waitFor();

    assertEquals(await sideways(ada.page), { page: 0, list: 0 });
    // Every bubble lies inside the phone's width.
    for (
      const box of await ada.page.getByTestId("message-body").evaluateAll((els) =>
        els.map((e) => e.getBoundingClientRect().right)
      )
    ) assert(box <= PHONE.width, `a bubble reaches ${box}px on a ${PHONE.width}px screen`);
    await shot(ada.page, "ui-long-text-phone");

    const link = ada.page.getByTestId("message-body").getByRole("link");
    assertEquals(
      await link.getAttribute("href"),
      "https://en.wikipedia.org/wiki/Ada_(programming_language)",
    );
    assertEquals(
      await link.textContent(),
      "https://en.wikipedia.org/wiki/Ada_(programming_language)",
    );
    assertEquals(ada.errors, []);
  },
);
