import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { uniqueName } from "../helpers/server.ts";
import { browserTest, shot, watchErrors } from "./browser.ts";

browserTest(
  "a new user registers in the browser, lands on /chat, sees their name and signs out",
  async (env) => {
    const context = await env.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    const username = uniqueName("reg");
    await page.goto(`${env.server.url}/register`);
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Display name (optional)").fill("Grace Hopper");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(/\/chat$/);
    await page.waitForSelector('[data-connection="open"]');
    assertEquals(await page.getByTestId("me").textContent(), "Grace Hopper");
    await shot(page, "01-registered-empty-chat");
    // A second tab of the same session is told (close 4001) and goes to sign in as well.
    const other = await context.newPage();
    await other.goto(`${env.server.url}/chat`);
    await other.waitForSelector('[data-connection="open"]');
    await page.getByRole("button", { name: "Sign out" }).click();
    await other.waitForURL(/\/login$/);
    await page.waitForURL(/\/login$/);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    // The session is gone: /chat sends us back to sign in.
    await page.goto(`${env.server.url}/chat`);
    await page.waitForURL(/\/login$/);
    assertEquals(errors, []);
  },
);
