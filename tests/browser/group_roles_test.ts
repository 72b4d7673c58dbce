import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { Page } from "playwright-core";
import { api } from "../helpers/server.ts";
import { browserTest, openChat, shot } from "./browser.ts";

/** The group info dialog's member row for a display name. */
const row = (page: Page, name: string) =>
  page.getByTestId("info-dialog").getByTestId("member").filter({ hasText: name });

/** How many of each control a page's group info dialog shows. */
async function controls(page: Page) {
  const info = page.getByTestId("info-dialog");
  return {
    rename: await info.getByTestId("rename-input").count(),
    toggles: await info.getByTestId("toggle-admin").count(),
    removes: await info.getByTestId("remove-member").count(),
    leave: await info.getByTestId("leave-group").count(),
  };
}

browserTest(
  "group info: the owner makes an admin and back, admins rename, everyone sees it live",
  async (env) => {
    const [alice, bob, carol] = await Promise.all([
      env.user({ displayName: "Alice Owner" }),
      env.user({ displayName: "Bob Helper" }),
      env.user({ displayName: "Carol Member" }),
    ]);
    const created = await api(env.server.url, "POST", "/api/conversations", {
      token: alice.accessToken,
      body: { kind: "group", title: "Launch", memberIds: [bob.user.id, carol.user.id] },
    });
    const id = created.body.conversation.id;
    await Promise.all([alice, bob, carol].map((u) => openChat(u.page, env.server.url, id)));
    for (const u of [alice, bob, carol]) {
      await u.page.getByTestId("group-info").click();
      await u.page.getByTestId("info-dialog").getByTestId("member").nth(2).waitFor();
    }

    // Roles show as badges; each person sees only the controls their role allows.
    await row(alice.page, "Alice Owner").getByTestId("role-badge").filter({ hasText: "Owner" })
      .waitFor();
    assertEquals(await alice.page.getByTestId("role-badge").count(), 1);
    assertEquals(await controls(alice.page), { rename: 1, toggles: 2, removes: 2, leave: 1 });
    assertEquals(await controls(bob.page), { rename: 0, toggles: 0, removes: 0, leave: 1 });
    assertEquals(await controls(carol.page), { rename: 0, toggles: 0, removes: 0, leave: 1 });

    // The owner makes Bob an admin: his badge shows everywhere, and his own open dialog now
    // offers renaming and removing Carol (a plain member), but not Alice.
    await row(alice.page, "Bob Helper").getByRole("button", { name: "Make admin" }).click();
    await row(alice.page, "Bob Helper").getByTestId("role-badge").filter({ hasText: "Admin" })
      .waitFor();
    await row(alice.page, "Bob Helper").getByRole("button", { name: "Remove admin" }).waitFor();
    await row(carol.page, "Bob Helper").getByTestId("role-badge").filter({ hasText: "Admin" })
      .waitFor();
    await bob.page.getByTestId("rename-input").waitFor();
    assertEquals(await controls(bob.page), { rename: 1, toggles: 0, removes: 1, leave: 1 });
    assertEquals(await row(bob.page, "Carol Member").getByTestId("remove-member").count(), 1);
    assertEquals(await row(bob.page, "Alice Owner").getByTestId("remove-member").count(), 0);
    await shot(alice.page, "17-group-roles");

    // The admin renames the group: the others' headers, sidebars and tab titles follow.
    await bob.page.getByTestId("rename-input").fill("Launch crew, Thursday");
    await bob.page.getByTestId("rename-save").click();
    await bob.page.locator("#info-dialog-title").filter({ hasText: "Launch crew, Thursday" })
      .waitFor();
    for (const u of [alice, carol]) {
      await u.page.keyboard.press("Escape");
      await u.page.getByTestId("conversation-heading").filter({ hasText: "Launch crew, Thursday" })
        .waitFor();
      await u.page.locator(`[data-testid="conversation-item"][data-id="${id}"]`)
        .getByTestId("conversation-title").filter({ hasText: "Launch crew, Thursday" }).waitFor();
      await u.page.waitForFunction(() => document.title === "Launch crew, Thursday · Parley");
    }
    await shot(carol.page, "18-renamed-live");

    // And back: Bob is a plain member again, and his controls go with the role.
    await alice.page.getByTestId("group-info").click();
    await row(alice.page, "Bob Helper").getByRole("button", { name: "Remove admin" }).click();
    await row(alice.page, "Bob Helper").getByRole("button", { name: "Make admin" }).waitFor();
    await bob.page.getByTestId("rename-input").waitFor({ state: "detached" });
    assertEquals(await controls(bob.page), { rename: 0, toggles: 0, removes: 0, leave: 1 });
    assertEquals(await row(bob.page, "Bob Helper").getByTestId("role-badge").count(), 0);

    // A plain member cannot rename through the API either (the UI only hides what is refused).
    const refused = await api(env.server.url, "PATCH", `/api/conversations/${id}`, {
      token: carol.accessToken,
      body: { title: "Nope" },
    });
    assertEquals(refused.status, 403);
    for (const u of [alice, bob, carol]) assertEquals(u.errors, []);
  },
);
