import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { bodies, browserTest, openChat, send, shot, startDirect } from "./browser.ts";

browserTest("direct chat: live delivery, read receipt and typing between two browsers", async (env) => {
  const alice = await env.user();
  const bob = await env.user();
  await openChat(alice.page, env.server.url);
  await openChat(bob.page, env.server.url);

  const convId = await startDirect(alice.page, bob.user);
  await send(alice.page, "Hi Bob! Lunch at https://example.com/menu?");
  // Alice's copy is acked: its status leaves "Sending…".
  const status = alice.page.getByTestId("message-status").last();
  await status.filter({ hasText: "Sent" }).waitFor();

  // Bob sees the new conversation and the message without reloading, as unread.
  const item = bob.page.locator(`[data-testid="conversation-item"][data-id="${convId}"]`);
  await item.getByTestId("conversation-preview")
    .filter({ hasText: "Hi Bob! Lunch at https://example.com/menu?" }).waitFor();
  assert((await item.getByTestId("unread-badge").textContent())!.startsWith("1"));
  await shot(bob.page, "02-list-with-unread");

  // Bob opens it: the message is there, with its link made safe, and Alice sees "Read".
  await item.click();
  await bob.page.getByTestId("message-body").filter({ hasText: "Hi Bob!" }).waitFor();
  const link = bob.page.getByTestId("message-body")
    .getByRole("link", { name: "https://example.com/menu" });
  assertEquals(await link.getAttribute("rel"), "noopener noreferrer");
  assertEquals(await link.getAttribute("target"), "_blank");
  await item.getByTestId("unread-badge").waitFor({ state: "detached" });
  await status.filter({ hasText: "Read" }).waitFor();

  // Bob types: Alice sees it; Bob replies: Alice sees the reply live and the typing line clears.
  await bob.page.getByTestId("composer").pressSequentially("Sure", { delay: 20 });
  await alice.page.getByTestId("typing").filter({ hasText: `${bob.user.displayName} is typing…` })
    .waitFor();
  await shot(alice.page, "03-typing");
  await bob.page.getByTestId("composer").fill("Sure, see you at noon.\nI'll bring the slides.");
  await bob.page.getByTestId("composer").press("Enter");
  await alice.page.getByTestId("message-body").filter({ hasText: "see you at noon" }).waitFor();
  await alice.page.getByTestId("typing").filter({ hasText: /^$/ }).waitFor();
  assertEquals(await bodies(alice.page), [
    "Hi Bob! Lunch at https://example.com/menu?",
    "Sure, see you at noon.\nI'll bring the slides.",
  ]);
  assertEquals(alice.errors, []);
  assertEquals(bob.errors, []);
});
