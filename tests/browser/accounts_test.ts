import { Buffer } from "node:buffer";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { sampleImages } from "../../lib/attachments/testing.ts";
import { api } from "../helpers/server.ts";
import { browserTest, createDirect, openChat, shot, watchErrors } from "./browser.ts";

browserTest(
  "settings: a new name and a cropped avatar reach the other user's open chat live",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user();
    const convId = await createDirect(env.server.url, alice, bob);
    await openChat(bob.page, env.server.url);
    const item = bob.page.locator(`[data-testid="conversation-item"][data-id="${convId}"]`);
    await item.getByTestId("conversation-title").filter({ hasText: alice.user.displayName })
      .waitFor();
    await item.getByTestId("avatar-initials").waitFor();

    // Alice renames herself on the settings page (a plain form post).
    await alice.page.goto(`${env.server.url}/settings`);
    await alice.page.getByLabel("Display name").fill("Alice Renamed");
    await alice.page.getByRole("button", { name: "Save name" }).click();
    await alice.page.getByTestId("settings-notice").filter({ hasText: "Your name was saved." })
      .waitFor();
    await item.getByTestId("conversation-title").filter({ hasText: "Alice Renamed" }).waitFor();

    // A landscape picture: the page crops it to a square before it is sent.
    const { png } = await sampleImages(300, 200);
    await alice.page.locator("#s-avatar").setInputFiles({
      name: "me.png",
      mimeType: "image/png",
      buffer: Buffer.from(png),
    });
    await alice.page.getByRole("button", { name: "Upload picture" }).click();
    await alice.page.getByTestId("settings-notice").filter({ hasText: "Your picture was saved." })
      .waitFor();
    const mine = alice.page.getByTestId("settings-profile").getByTestId("avatar-image");
    await mine.waitFor();
    const size = await mine.evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      return [img.naturalWidth, img.naturalHeight];
    });
    assertEquals(size, [200, 200]);
    await shot(alice.page, "accounts-settings");

    // Bob's list shows the picture without a reload.
    const theirs = item.getByTestId("avatar-image");
    await theirs.waitFor();
    assert((await theirs.getAttribute("src"))!.startsWith(`/api/users/${alice.user.id}/avatar?v=`));
    const loaded = await theirs.evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      return img.naturalWidth;
    });
    assertEquals(loaded, 200);
    await shot(bob.page, "accounts-live-avatar");
    assertEquals(alice.errors, []);
    assertEquals(bob.errors, []);
  },
);

browserTest(
  "settings: signing out another session from the sessions page ends it in its browser",
  async (env) => {
    const alice = await env.user();
    // A second device: signed in through the API with a phone's user agent.
    const login = await api(env.server.url, "POST", "/api/auth/login", {
      body: { username: alice.user.username, password: "password123" },
      headers: {
        "user-agent":
          "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
      },
    });
    assertEquals(login.status, 200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    const phone = await env.newContext();
    const [name, value] = cookie.split("=");
    await phone.addCookies([{ name, value, url: env.server.url }]);
    const phonePage = await phone.newPage();
    const phoneErrors = watchErrors(phonePage);
    await openChat(phonePage, env.server.url);

    await alice.page.goto(`${env.server.url}/settings`);
    const sessions = alice.page.getByTestId("session");
    assertEquals(await sessions.count(), 2);
    const other = sessions.filter({ hasText: "Chrome on Android" });
    assertEquals(await other.getAttribute("data-current"), "false");
    await other.getByRole("button", { name: "Sign out Chrome on Android" }).click();
    await alice.page.getByTestId("settings-notice")
      .filter({ hasText: "That device was signed out." }).waitFor();
    assertEquals(await alice.page.getByTestId("session").count(), 1);

    // The phone's socket is closed (4001) and its page goes to the sign-in page.
    await phonePage.waitForURL(/\/login$/);
    assertEquals(phoneErrors, []);
    assertEquals(alice.errors, []);
  },
);
