import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Page } from "playwright-core";
import { api } from "../helpers/server.ts";
import {
  bodies,
  browserTest,
  createDirect,
  openChat,
  openFromList,
  postMessage,
  send,
  shot,
  startDirect,
  waitForBodies,
} from "./browser.ts";

/** Whether the message with this text is inside both the window and the message scroller (no
 * script needed: it works with JavaScript disabled too). */
async function inView(page: Page, text: string): Promise<boolean> {
  const box = await page.getByTestId("message-body").filter({ hasText: text }).first()
    .boundingBox();
  const scroller = await page.getByTestId("message-scroller").boundingBox();
  const vp = page.viewportSize()!;
  if (!box || !scroller) return false;
  const top = Math.max(0, scroller.y);
  const bottom = Math.min(vp.height, scroller.y + scroller.height);
  return box.y >= top - 1 && box.y + box.height <= bottom + 1;
}

browserTest(
  "direct chat: live delivery, read receipt and typing between two browsers",
  async (env) => {
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
  },
);

browserTest(
  "a group of three made from the dialog: everyone sees everyone's messages",
  async (env) => {
    const [alice, bob, carol] = await Promise.all([env.user(), env.user(), env.user()]);
    await Promise.all([alice, bob, carol].map((u) => openChat(u.page, env.server.url)));

    const page = alice.page;
    await page.getByTestId("new-conversation").click();
    const dialog = page.getByTestId("new-dialog");
    await dialog.getByTestId("mode-group").click();
    await dialog.getByLabel("Group name").fill("Weekend trip");
    for (const u of [bob, carol]) {
      await dialog.getByLabel("Add people").fill(u.user.username);
      await dialog.getByTestId("user-result").filter({ hasText: u.user.displayName })
        .getByRole("button", { name: "Add" }).click();
      await dialog.getByTestId("picked").getByText(u.user.displayName).waitFor();
    }
    await shot(page, "04-new-group-dialog");
    await dialog.getByTestId("create-group").click();
    await page.getByTestId("conversation-heading").filter({ hasText: "Weekend trip" }).waitFor();
    const id = new URL(page.url()).pathname.split("/").pop()!;
    await send(page, "Hi both, who's driving?");

    for (const u of [bob, carol]) {
      const item = u.page.locator(`[data-testid="conversation-item"][data-id="${id}"]`);
      await item.getByTestId("conversation-preview").filter({ hasText: "who's driving?" })
        .waitFor();
      await item.click();
      await u.page.getByTestId("message-body").filter({ hasText: "who's driving?" }).waitFor();
    }
    await page.getByTestId("message-status").filter({ hasText: "Read by 2" }).waitFor();
    await send(bob.page, "I can drive.");
    await carol.page.getByTestId("message-body").filter({ hasText: "I can drive." }).waitFor();
    await send(carol.page, "I'll bring snacks.");
    const all = ["Hi both, who's driving?", "I can drive.", "I'll bring snacks."];
    for (const u of [alice, bob, carol]) await waitForBodies(u.page, all);
    // In a group, the sender's name shows above others' messages.
    await page.getByText(bob.user.displayName, { exact: true }).first().waitFor();

    await page.getByTestId("group-info").click();
    const info = page.getByTestId("info-dialog");
    await info.getByTestId("member").nth(2).waitFor();
    assertEquals(await info.getByTestId("member").count(), 3);
    await info.getByTestId("member").filter({ hasText: "owner" }).filter({
      hasText: alice.user.displayName,
    }).waitFor();
    await shot(page, "05-group-info");
    for (const u of [alice, bob, carol]) assertEquals(u.errors, []);
  },
);

browserTest(
  "after the receiver's network drops, every message sent meanwhile shows once, in order",
  async (env) => {
    const sender = await env.user();
    const bob = await env.user();
    const id = await createDirect(env.server.url, sender, bob);
    const post = (body: string) => postMessage(env.server.url, sender.accessToken, id, body);
    await post("before the drop");
    await openChat(bob.page, env.server.url, id);
    await waitForBodies(bob.page, ["before the drop"]);

    await bob.context.setOffline(true);
    await bob.page.getByTestId("reconnecting").waitFor();
    const missed = Array.from({ length: 8 }, (_, i) => `while offline ${i + 1}`);
    for (const m of missed) await post(m);
    // Bob writes while offline: it waits as "Sending…" and goes out (once) on reconnect.
    await send(bob.page, "typed while offline");
    await bob.page.getByTestId("message-status").filter({ hasText: "Sending…" }).waitFor();
    await shot(bob.page, "06-reconnecting");
    assertEquals(await bodies(bob.page), ["before the drop", "typed while offline"]);

    await bob.context.setOffline(false);
    await bob.page.waitForSelector('[data-connection="open"]');
    const expected = ["before the drop", ...missed, "typed while offline"];
    await waitForBodies(bob.page, expected);
    await bob.page.getByTestId("message-status").filter({ hasText: /Sent|Read/ }).waitFor();
    await post("after the reconnect");
    await waitForBodies(bob.page, [...expected, "after the reconnect"]);
    const seqs = await bob.page.getByTestId("message").evaluateAll((els) =>
      els.map((e) => Number(e.getAttribute("data-seq")))
    );
    assertEquals(seqs, Array.from({ length: 11 }, (_, i) => i + 1));
    const history = await api(env.server.url, "GET", `/api/conversations/${id}/messages`, {
      token: sender.accessToken,
    });
    assertEquals(history.body.messages.map((m: { body: string }) => m.body), [
      ...expected,
      "after the reconnect",
    ]);
    assertEquals(bob.errors, []);
  },
);

browserTest(
  "/chat/:id works without JavaScript: the last 50 messages in the HTML, earlier ones by link, sending by form",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user();
    const id = await createDirect(env.server.url, alice, bob);
    const texts = Array.from({ length: 60 }, (_, i) => `note ${String(i + 1).padStart(3, "0")}`);
    // Two senders (two rate-limit buckets) fill 60 messages without waiting.
    for (const [i, body] of texts.entries()) {
      await postMessage(env.server.url, (i % 2 ? bob : alice).accessToken, id, body);
    }
    const res = await fetch(`${env.server.url}/chat/${id}`, { headers: { cookie: bob.cookie } });
    assertEquals(res.status, 200);
    const html = await res.text();
    for (const t of texts.slice(10)) assert(html.includes(`>${t}<`), `${t} is in the HTML`);
    assert(!html.includes(`>${texts[9]}<`), "only the last 50 are rendered");

    // The same page in a browser with JavaScript off shows them too.
    const context = await env.newContext({ javaScriptEnabled: false });
    const [name, value] = bob.cookie.split("=");
    await context.addCookies([{ name, value, url: env.server.url }]);
    const page = await context.newPage();
    await page.goto(`${env.server.url}/chat/${id}`);
    assertEquals(await page.getByTestId("message-body").count(), 50);
    assertEquals(await page.getByTestId("message-body").last().textContent(), "note 060");
    // It opens at the newest message (CSS only: the scroller's scroll origin is its bottom).
    assert(await inView(page, "note 060"), "the newest message is in view");
    assert(!(await inView(page, "note 011")), "the oldest rendered message is scrolled away");
    await shot(page, "07-no-javascript");

    // Without JavaScript, "Load earlier messages" goes to the page before.
    await page.getByTestId("load-earlier").click();
    await page.waitForURL(`${env.server.url}/chat/${id}?before=11`);
    assertEquals(await page.getByTestId("message-body").allTextContents(), texts.slice(0, 10));

    // With JavaScript, scrolling up loads the older page; scrolled up, a new message offers a
    // jump to the latest instead of moving the view.
    const live = await env.newContext();
    await live.addCookies([{ name, value, url: env.server.url }]);
    const lp = await live.newPage();
    await openChat(lp, env.server.url, id);
    assertEquals(await lp.getByTestId("message-body").count(), 50);
    assert(await inView(lp, "note 060"), "hydrated, it still shows the newest message");
    // Scrolled to the top (scrollTop runs negative in a column-reverse scroller).
    await lp.getByTestId("message-scroller").evaluate((el) => el.scrollTop = -el.scrollHeight);
    await waitForBodies(lp, texts);
    await lp.getByTestId("jump-latest").waitFor();
    // The older page went in above without moving what the reader was looking at.
    assert(await inView(lp, "note 011"), "the view stays put when older messages load");
    await postMessage(env.server.url, alice.accessToken, id, "note 061");
    await lp.getByTestId("jump-latest").filter({ hasText: "new" }).waitFor();
    await waitForBodies(lp, [...texts, "note 061"]);
    // A new message while scrolled up does not pull the view along.
    assert(await inView(lp, "note 011"), "the view stays put when a message arrives");
    assert(!(await inView(lp, "note 061")), "the new message waits below");
    await lp.getByTestId("jump-latest").click();
    await lp.getByTestId("jump-latest").waitFor({ state: "detached" });
    assert(await inView(lp, "note 061"), "jump to latest shows the newest message");
    // At the bottom, new messages keep the view pinned there.
    await postMessage(env.server.url, alice.accessToken, id, "note 062");
    await waitForBodies(lp, [...texts, "note 061", "note 062"]);
    await lp.waitForFunction(() => {
      const el = document.querySelector('[data-testid="message-scroller"]')!;
      return Math.abs(el.scrollTop) < 2;
    });
    assert(await inView(lp, "note 062"), "a reader at the bottom sees new messages");

    // Someone else's conversation is not found; no session goes to sign in.
    const carol = await env.user();
    const other = await fetch(`${env.server.url}/chat/${id}`, {
      headers: { cookie: carol.cookie },
    });
    assertEquals(other.status, 404);
    await other.body?.cancel();
    const anon = await fetch(`${env.server.url}/chat`, { redirect: "manual" });
    assertEquals(anon.status, 302);
    assertEquals(anon.headers.get("location"), "/login");

    // Without JavaScript the message box still sends: a plain form post, then the page again
    // with the message in it, and the live page of the same user gets it too.
    await page.goto(`${env.server.url}/chat/${id}`);
    await page.getByTestId("composer").fill("sent without script\nline two");
    await page.getByTestId("send").click();
    await page.waitForURL(`${env.server.url}/chat/${id}`);
    assertEquals(
      await page.getByTestId("message-body").last().innerText(),
      "sent without script\nline two",
    );
    await lp.getByTestId("message-body").filter({ hasText: "sent without script" }).waitFor();
    await context.close();
  },
);

browserTest("a message body with HTML shows as text and runs nothing", async (env) => {
  const alice = await env.user();
  const bob = await env.user();
  await openChat(alice.page, env.server.url);
  await openChat(bob.page, env.server.url);
  const id = await startDirect(alice.page, bob.user);
  const evil = `<img src=x onerror="window.__pwned=1">`;
  const evil2 = `<script>window.__pwned=2</script> javascript:alert(1) [x](javascript:alert(1))`;
  await send(alice.page, evil);
  await alice.page.getByTestId("message-status").filter({ hasText: "Sent" }).waitFor();
  await postMessage(env.server.url, alice.accessToken, id, evil2);
  await openFromList(bob.page, id);
  await waitForBodies(bob.page, [evil, evil2]);
  // Server-rendered too: reload, and the HTML path shows the same text.
  await bob.page.reload();
  await waitForBodies(bob.page, [evil, evil2]);
  for (const u of [alice, bob]) {
    await waitForBodies(u.page, [evil, evil2]);
    assertEquals(await u.page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
    assertEquals(
      await u.page.locator('[data-testid="messages"] img, [data-testid="messages"] script').count(),
      0,
    );
    assertEquals(await u.page.locator('[data-testid="message-body"] a').count(), 0);
    assertEquals(u.errors, []);
  }
});

/** Pretends the tab was hidden or shown again (headless Chromium keeps every tab visible). */
function setVisible(page: Page, visible: boolean): Promise<void> {
  return page.evaluate((v) => {
    Object.defineProperty(document, "visibilityState", {
      configurable: true,
      get: () => v ? "visible" : "hidden",
    });
    document.dispatchEvent(new Event("visibilitychange"));
  }, visible);
}

browserTest(
  "the New messages line marks what arrived unseen, and goes once the reader has answered",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user();
    const id = await createDirect(env.server.url, alice, bob);
    const post = (body: string) => postMessage(env.server.url, alice.accessToken, id, body);
    await post("are you there?");
    await post("ping");
    const page = bob.page;
    const marker = page.getByTestId("new-marker");
    /** The text of the message just below the marker. */
    const belowMarker = () =>
      page.locator('[data-testid="new-marker"] + [data-testid="message"]')
        .getByTestId("message-body").textContent();

    // Opened with two unread: the line sits above the first of them.
    await openChat(page, env.server.url, id);
    await waitForBodies(page, ["are you there?", "ping"]);
    await marker.waitFor();
    assertEquals(await belowMarker(), "are you there?");

    // Answering clears it.
    await send(page, "yes, here");
    await marker.waitFor({ state: "detached" });
    await page.getByTestId("message-status").filter({ hasText: /Sent|Read/ }).waitFor();

    // Read live at the bottom of a visible tab: no line.
    await post("great");
    await waitForBodies(page, ["are you there?", "ping", "yes, here", "great"]);
    assertEquals(await marker.count(), 0);

    // What comes while the tab is hidden is marked when the reader comes back...
    await setVisible(page, false);
    await post("one more thing");
    await waitForBodies(page, ["are you there?", "ping", "yes, here", "great", "one more thing"]);
    const item = page.locator(`[data-testid="conversation-item"][data-id="${id}"]`);
    await item.getByTestId("unread-badge").waitFor();
    await setVisible(page, true);
    await marker.waitFor();
    assertEquals(await belowMarker(), "one more thing");
    await item.getByTestId("unread-badge").waitFor({ state: "detached" });
    await shot(page, "08-new-messages-line");

    // ...and gone the next time they come back with nothing new.
    await setVisible(page, false);
    await setVisible(page, true);
    await marker.waitFor({ state: "detached" });

    // Re-opening a conversation that has been read shows no line either.
    await post("last one");
    await page.getByTestId("message-body").filter({ hasText: "last one" }).waitFor();
    await setVisible(page, false);
    await post("really the last");
    await item.getByTestId("unread-badge").waitFor();
    await setVisible(page, true);
    await marker.waitFor();
    assertEquals(await belowMarker(), "really the last");
    await page.reload();
    await page.waitForSelector('[data-connection="open"]');
    await page.getByTestId("message-body").filter({ hasText: "really the last" }).waitFor();
    assertEquals(await marker.count(), 0);
    assertEquals(bob.errors, []);
  },
);
