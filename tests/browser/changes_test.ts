/**
 * Message changes in real Chromium (issue 11): edits and deletes reach the other side live, a
 * reaction shows with its count, a reply's quote leads to its original on an earlier page, and
 * a hidden tab raises one notification per conversation while the title counts the unread.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Page } from "playwright-core";
import { api } from "../helpers/server.ts";
import {
  browserTest,
  createDirect,
  openChat,
  postMessage,
  send,
  settles,
  type Signed,
  waitForBodies,
} from "./browser.ts";

/** The message whose text is `text`. */
const message = (page: Page, text: string) =>
  page.getByTestId("message").filter({
    has: page.getByTestId("message-body").filter({ hasText: text }),
  });

/** Whether the message with seq `seq` is inside the message scroller's visible part. */
async function seqInView(page: Page, seq: number): Promise<boolean> {
  const box = await page.locator(`[data-testid="message"][data-seq="${seq}"]`).boundingBox();
  const scroller = await page.getByTestId("message-scroller").boundingBox();
  if (!box || !scroller) return false;
  return box.y >= scroller.y - 1 && box.y + box.height <= scroller.y + scroller.height + 1;
}

browserTest("an edit and a delete show live on the other side", async (env) => {
  const alice = await env.user();
  const bob = await env.user();
  const convId = await createDirect(env.server.url, alice, bob);
  await openChat(alice.page, env.server.url, convId);
  await openChat(bob.page, env.server.url, convId);

  await send(alice.page, "See you at the libary");
  await send(alice.page, "Bring the slides");
  await waitForBodies(bob.page, ["See you at the libary", "Bring the slides"]);

  // Alice fixes the typo from the message's actions.
  const typo = message(alice.page, "See you at the libary");
  await typo.hover();
  await typo.getByRole("button", { name: "Edit" }).click();
  await alice.page.getByTestId("editing-bar").waitFor();
  await alice.page.getByTestId("composer").fill("See you at the library");
  await alice.page.getByTestId("composer").press("Enter");

  await waitForBodies(bob.page, ["See you at the library", "Bring the slides"]);
  const edited = message(bob.page, "See you at the library").getByTestId("message-edited");
  await edited.waitFor();
  assert((await edited.getAttribute("title"))!.startsWith("Edited "));
  await message(alice.page, "See you at the library").getByTestId("message-edited").waitFor();

  // Up in the empty box edits her last message, as in Slack (once the first edit is done).
  await alice.page.getByTestId("editing-bar").waitFor({ state: "hidden" });
  await alice.page.getByTestId("composer").press("ArrowUp");
  await alice.page.getByTestId("editing-bar").waitFor();
  await settles(
    () => alice.page.getByTestId("composer").inputValue(),
    "Bring the slides",
    "the composer holds the last message to edit",
  );
  await alice.page.getByTestId("composer").fill("Bring the slides, please");
  await alice.page.getByTestId("composer").press("Enter");
  await waitForBodies(bob.page, ["See you at the library", "Bring the slides, please"]);

  // She deletes the last one, after confirming: both sides say so, and the list's preview no
  // longer shows its text.
  const last = message(alice.page, "Bring the slides, please");
  await last.hover();
  await last.getByRole("button", { name: "Delete" }).click();
  await alice.page.getByTestId("confirm-ok").click();
  await waitForBodies(bob.page, ["See you at the library", "Message deleted"]);
  await waitForBodies(alice.page, ["See you at the library", "Message deleted"]);
  const preview = bob.page.locator(`[data-testid="conversation-item"][data-id="${convId}"]`)
    .getByTestId("conversation-preview");
  await preview.filter({ hasText: "Message deleted" }).waitFor();

  // A reload shows the same (the server's state, not only the live frames).
  await openChat(bob.page, env.server.url, convId);
  await waitForBodies(bob.page, ["See you at the library", "Message deleted"]);
  await message(bob.page, "See you at the library").getByTestId("message-edited").waitFor();
  assertEquals(alice.errors, []);
  assertEquals(bob.errors, []);
});

browserTest("a reaction appears with its count, and a second one adds to it", async (env) => {
  const alice = await env.user();
  const bob = await env.user();
  const convId = await createDirect(env.server.url, alice, bob);
  await openChat(alice.page, env.server.url, convId);
  await openChat(bob.page, env.server.url, convId);
  await send(alice.page, "We won the match!");
  await waitForBodies(bob.page, ["We won the match!"]);

  const theirs = message(bob.page, "We won the match!");
  await theirs.hover();
  await theirs.getByRole("button", { name: "Add reaction" }).click();
  await bob.page.getByTestId("reaction-picker").getByRole("button", { name: "React with 👍" })
    .click();
  // Any single emoji can be typed into the picker too.
  await theirs.hover();
  await theirs.getByRole("button", { name: "Add reaction" }).click();
  await bob.page.getByTestId("any-emoji").fill("🏆");
  await bob.page.getByTestId("any-emoji").press("Enter");

  const mine = message(alice.page, "We won the match!");
  const thumbs = mine.locator('[data-testid="reaction"][data-emoji="👍"]');
  await thumbs.getByTestId("reaction-count").filter({ hasText: "1" }).waitFor();
  await mine.locator('[data-testid="reaction"][data-emoji="🏆"]').waitFor();
  assertEquals(await thumbs.getAttribute("aria-pressed"), "false");
  assert((await thumbs.getAttribute("title"))!.includes(bob.user.displayName));

  // Alice adds hers: the count is 2 on both sides, and pressed on hers.
  await thumbs.click();
  await thumbs.getByTestId("reaction-count").filter({ hasText: "2" }).waitFor();
  assertEquals(await thumbs.getAttribute("aria-pressed"), "true");
  await theirs.locator('[data-testid="reaction"][data-emoji="👍"]').getByTestId("reaction-count")
    .filter({ hasText: "2" }).waitFor();
  // Bob takes his back.
  await theirs.locator('[data-testid="reaction"][data-emoji="👍"]').click();
  await thumbs.getByTestId("reaction-count").filter({ hasText: "1" }).waitFor();
  assertEquals(await thumbs.getAttribute("aria-pressed"), "true");
  assertEquals(alice.errors, []);
  assertEquals(bob.errors, []);
});

browserTest("a reply's quote leads to its original, loading earlier pages", async (env) => {
  const alice = await env.user();
  const bob = await env.user();
  const convId = await createDirect(env.server.url, alice, bob);
  const first = await postMessage(env.server.url, bob.accessToken, convId, "The plan: meet at 9");
  for (let i = 1; i <= 110; i++) {
    await postMessage(env.server.url, bob.accessToken, convId, `filler ${i}`);
  }
  // Bob answers his first message, from far back in the history (waiting out the send rate
  // limit the filler used up).
  const id = crypto.randomUUID();
  for (;;) {
    const r = await api(env.server.url, "POST", `/api/conversations/${convId}/messages`, {
      token: bob.accessToken,
      body: { id, body: "As I said above", replyTo: first.seq },
    });
    if (r.status === 201) break;
    assertEquals(r.status, 429, `reply: ${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((ok) => setTimeout(ok, r.body.error.retryAfterMs));
  }

  await openChat(alice.page, env.server.url, convId);
  const reply = message(alice.page, "As I said above");
  const quote = reply.getByTestId("reply-quote");
  await quote.filter({ hasText: "The plan: meet at 9" }).waitFor();
  assertEquals(await alice.page.locator(`[data-seq="${first.seq}"]`).count(), 0);
  await quote.click();
  await alice.page.locator(`[data-testid="message"][data-seq="${first.seq}"]`).waitFor();
  await alice.page.waitForFunction(
    (seq) => {
      const el = document.querySelector(`[data-testid="message"][data-seq="${seq}"]`);
      const box = document.querySelector('[data-testid="message-scroller"]');
      if (!el || !box) return false;
      const a = el.getBoundingClientRect();
      const b = box.getBoundingClientRect();
      return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
    },
    first.seq,
  );
  assert(await seqInView(alice.page, first.seq));

  // Alice replies from the UI: the quote shows on both sides; when Bob deletes the original,
  // the quote says so.
  const original = message(alice.page, "The plan: meet at 9");
  await original.hover();
  await original.getByRole("button", { name: "Reply" }).click();
  await alice.page.getByTestId("reply-bar").filter({ hasText: "The plan: meet at 9" }).waitFor();
  await send(alice.page, "Works for me");
  await openChat(bob.page, env.server.url, convId);
  const bobsCopy = message(bob.page, "Works for me").getByTestId("reply-quote");
  await bobsCopy.filter({ hasText: "The plan: meet at 9" }).waitFor();
  const del = await api(
    env.server.url,
    "DELETE",
    `/api/conversations/${convId}/messages/${first.seq}?id=${crypto.randomUUID()}`,
    { token: bob.accessToken },
  );
  assert(del.status === 201, `delete: ${del.status}`);
  await message(alice.page, "Works for me").getByTestId("reply-quote")
    .filter({ hasText: "Message deleted" }).waitFor();
  assertEquals(alice.errors, []);
  assertEquals(bob.errors, []);
});

/**
 * Records the notifications a page raises (wrapping the browser's own `Notification`, which
 * still runs), and lets the test hide the tab: headless Chromium keeps every page "visible"
 * (minimising or switching tabs changes nothing there), so `__hide()` stands in for the window
 * going to the background, with the same property values and event a real one gives, and
 * `__click()` for the system's click on a notification.
 */
const PROBE = `
  (() => {
    const Real = window.Notification;
    const shown = [];
    class Probe extends Real {
      constructor(title, opts) {
        super(title, opts);
        const rec = { title, body: opts?.body ?? "", tag: opts?.tag ?? "", open: true };
        shown.push(rec);
        live.set(rec, this);
        this.__rec = rec;
      }
      close() {
        this.__rec.open = false;
        super.close();
      }
    }
    window.Notification = Probe;
    const live = new Map();
    window.__notifications = shown;
    // What the system does when the reader clicks a notification: a click event on it.
    window.__click = (tag) => {
      const rec = shown.findLast((r) => r.tag === tag && r.open);
      live.get(rec).dispatchEvent(new Event("click"));
    };
    let hidden = false;
    Object.defineProperty(document, "visibilityState", { get: () => hidden ? "hidden" : "visible" });
    Object.defineProperty(document, "hidden", { get: () => hidden });
    window.__hide = (h) => {
      hidden = h;
      document.dispatchEvent(new Event("visibilitychange"));
    };
  })();
`;

interface Shown {
  title: string;
  body: string;
  tag: string;
  open: boolean;
}

const notifications = (page: Page): Promise<Shown[]> =>
  page.evaluate(() => (globalThis as unknown as { __notifications: Shown[] }).__notifications);

browserTest(
  "a hidden tab gets one notification per conversation, and the title counts the unread",
  async (env) => {
    const [alice, bob, carol] = await Promise.all([env.user(), env.user(), env.user()]);
    await alice.context.grantPermissions(["notifications"], { origin: env.server.url });
    const direct = await createDirect(env.server.url, alice, bob);
    const g = await api(env.server.url, "POST", "/api/conversations", {
      token: carol.accessToken,
      body: { kind: "group", title: "Book club", memberIds: [alice.user.id, bob.user.id] },
    });
    const group: string = g.body.conversation.id;
    await alice.page.addInitScript(PROBE);
    await openChat(alice.page, env.server.url);
    // Permission was granted beforehand, so the page offers nothing and asked nothing.
    assertEquals(await alice.page.getByTestId("notifications-offer").count(), 0);
    assertEquals(await alice.page.title(), "Parley");

    // Alice's other tab, for her own messages.
    const other = await alice.context.newPage();
    await openChat(other, env.server.url, direct);

    await alice.page.evaluate(() =>
      (globalThis as unknown as { __hide(h: boolean): void }).__hide(true)
    );
    await postMessage(env.server.url, bob.accessToken, direct, "Are you coming tonight?");
    await postMessage(env.server.url, bob.accessToken, direct, "Let me know by six");
    await postMessage(env.server.url, carol.accessToken, group, "Chapter 3 is long");
    await postMessage(
      env.server.url,
      carol.accessToken,
      group,
      `@${alice.user.username} what did you think?`,
    );
    await send(other, "On my way"); // hers, from another tab: no notification
    await postMessage(env.server.url, bob.accessToken, group, "I liked it");

    await alice.page.waitForFunction(
      () =>
        (globalThis as unknown as { __notifications: Shown[] }).__notifications.filter((n) =>
          n.open
        ).length === 2,
    );
    // Give a stray third one the time to show up before counting.
    await alice.page.locator(`[data-testid="conversation-item"][data-id="${group}"]`)
      .getByTestId("conversation-preview").filter({ hasText: "I liked it" }).waitFor();
    const all = await notifications(alice.page);
    const open = all.filter((n) => n.open);
    assertEquals(open.map((n) => n.tag).sort(), [direct, group].sort());
    assertEquals(open.find((n) => n.tag === direct)!.body, "Let me know by six");
    assertEquals(
      open.find((n) => n.tag === group)!.body,
      `@${alice.user.username} what did you think?`,
    );
    // Bob's first was replaced by his second; the group's unmentioned messages raised none.
    assertEquals(all.length, 3);
    assert(!all.some((n) => n.body === "On my way" || n.body === "I liked it"));

    // The title counts the conversations with unread messages (her own reply read the direct
    // one); the group has an @ badge.
    await alice.page.waitForFunction(() => document.title === "(1) Parley");
    await alice.page.locator(`[data-testid="conversation-item"][data-id="${group}"]`)
      .getByTestId("mention-badge").waitFor();

    // Clicking the group's notification opens the group: nothing is left unread.
    await alice.page.evaluate((tag) => {
      const w = globalThis as unknown as { __hide(h: boolean): void; __click(t: string): void };
      w.__hide(false);
      w.__click(tag);
    }, group);
    await alice.page.waitForURL(new RegExp(`/chat/${group}$`));
    await alice.page.waitForFunction(() => document.title === "Book club · Parley");
    await alice.page.locator(`[data-testid="conversation-item"][data-id="${group}"]`)
      .getByTestId("mention-badge").waitFor({ state: "detached" });
    assertEquals(alice.errors, []);
  },
);

browserTest("notifications are offered from a button, never asked on load", async (env) => {
  const alice: Signed = await env.user();
  await alice.page.addInitScript(`
    window.__asked = 0;
    const ask = Notification.requestPermission.bind(Notification);
    Notification.requestPermission = (...a) => { window.__asked++; return ask(...a); };
  `);
  await openChat(alice.page, env.server.url);
  const offer = alice.page.getByTestId("notifications-offer");
  await offer.getByRole("button", { name: "Turn on" }).waitFor();
  assertEquals(
    await alice.page.evaluate(() => (globalThis as unknown as { __asked: number }).__asked),
    0,
  );
  await offer.getByRole("button", { name: "Turn on" }).click();
  await alice.page.waitForFunction(() =>
    (globalThis as unknown as { __asked: number }).__asked === 1
  );
  assertEquals(alice.errors, []);
});

const AXE = await Deno.readTextFile(
  new URL("../../node_modules/axe-core/axe.min.js", import.meta.url),
);

/** axe-core's serious and critical findings on the page as it is now (as ui_test.ts runs it). */
async function axe(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(AXE);
  return await page.evaluate(async () => {
    type Violation = { id: string; impact: string; nodes: { target: string[] }[] };
    const { axe } = globalThis as unknown as {
      axe: { run(ctx: Document, o: unknown): Promise<{ violations: Violation[] }> };
    };
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`);
  });
}

browserTest("@ opens a member picker; the mention is highlighted and badged", async (env) => {
  const [alice, bob, carol] = await Promise.all([
    env.user({ displayName: "Alice Martin" }),
    env.user({ displayName: "Bob Stone" }),
    env.user({ displayName: "Carol King" }),
  ]);
  const g = await api(env.server.url, "POST", "/api/conversations", {
    token: alice.accessToken,
    body: { kind: "group", title: "Garden", memberIds: [bob.user.id, carol.user.id] },
  });
  const group: string = g.body.conversation.id;
  await openChat(alice.page, env.server.url, group);
  await openChat(bob.page, env.server.url);

  const box = alice.page.getByTestId("composer");
  await alice.page.getByTestId("conversation-subtitle").filter({ hasText: "3 members" }).waitFor();
  await box.pressSequentially("Thanks @");
  const picker = alice.page.getByTestId("mention-picker");
  await picker.getByTestId("mention-option").nth(1).waitFor();
  assertEquals(await axe(alice.page), []);
  await box.pressSequentially("car");
  assertEquals(await picker.getByTestId("mention-option").allTextContents(), [
    `Carol King @${carol.user.username}`,
  ]);
  await box.press("Enter"); // picks, does not send
  assertEquals(await box.inputValue(), `Thanks @${carol.user.username} `);
  await box.pressSequentially("and @");
  const options = picker.getByTestId("mention-option");
  await options.nth(1).waitFor();
  // The keyboard moves the selection; Tab takes the selected one.
  const second = (await options.nth(1).textContent())!.split("@")[1];
  assertEquals(await options.nth(0).getAttribute("aria-selected"), "true");
  await box.press("ArrowDown");
  assertEquals(await options.nth(1).getAttribute("aria-selected"), "true");
  await box.press("Tab");
  assertEquals(await box.inputValue(), `Thanks @${carol.user.username} and @${second} `);
  // Typing narrows it to one: Bob, whatever the order. (His whole name: test usernames made in
  // the same millisecond differ only in their last character.)
  await box.pressSequentially(`also @${bob.user.username}`);
  await options.filter({ hasText: bob.user.displayName }).waitFor();
  await settles(() => options.count(), 1, "the picker narrows to Bob");
  await box.press("Enter");
  assertEquals(
    await box.inputValue(),
    `Thanks @${carol.user.username} and @${second} also @${bob.user.username} `,
  );
  await box.press("Enter");

  // Bob was mentioned: an @ badge on the group in his list, and his name highlighted inside.
  const item = bob.page.locator(`[data-testid="conversation-item"][data-id="${group}"]`);
  await item.getByTestId("mention-badge").waitFor();
  assertEquals(await axe(bob.page), []);
  await item.click();
  const mention = bob.page.getByTestId("mention").filter({ hasText: `@${bob.user.username}` });
  await mention.waitFor();
  await item.getByTestId("mention-badge").waitFor({ state: "detached" });

  // The reaction picker and the reply bar pass axe as well.
  const sent = message(bob.page, "Thanks");
  await sent.hover();
  await sent.getByRole("button", { name: "Reply" }).click();
  await bob.page.getByTestId("reply-bar").waitFor();
  await sent.getByRole("button", { name: "Add reaction" }).click();
  await bob.page.getByTestId("reaction-picker").waitFor();
  assertEquals(await axe(bob.page), []);
  await bob.page.keyboard.press("Escape");
  await bob.page.getByTestId("reaction-picker").waitFor({ state: "detached" });
  assertEquals(alice.errors, []);
  assertEquals(bob.errors, []);
});

browserTest(
  "changes missed while offline arrive on reconnect; ours made offline go out",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user();
    const convId = await createDirect(env.server.url, alice, bob);
    const seqs: number[] = [];
    for (const body of ["one", "two", "three"]) {
      seqs.push((await postMessage(env.server.url, alice.accessToken, convId, body)).seq);
    }
    await openChat(bob.page, env.server.url, convId);
    await waitForBodies(bob.page, ["one", "two", "three"]);

    await bob.context.setOffline(true);
    await bob.page.getByTestId("reconnecting").waitFor();
    const path = (seq: number) => `/api/conversations/${convId}/messages/${seq}`;
    const token = alice.accessToken;
    const change = async (method: string, p: string, body?: unknown) => {
      const r = await api(env.server.url, method, p, { token, body });
      assertEquals(r.status, 201, `${method} ${p}: ${JSON.stringify(r.body)}`);
    };
    await change("PATCH", path(seqs[0]), { id: crypto.randomUUID(), body: "one, edited" });
    await change("DELETE", `${path(seqs[1])}?id=${crypto.randomUUID()}`);
    await change("POST", `${path(seqs[2])}/reactions`, {
      id: crypto.randomUUID(),
      emoji: "🎉",
      on: true,
    });
    await postMessage(env.server.url, token, convId, "four");
    // Bob reacts while offline: shown at once, sent when the connection is back.
    const three = message(bob.page, "three");
    await three.hover();
    await three.getByRole("button", { name: "Add reaction" }).click();
    await bob.page.getByTestId("reaction-picker").getByRole("button", { name: "React with 👍" })
      .click();
    await three.locator('[data-testid="reaction"][data-emoji="👍"]').waitFor();

    await bob.context.setOffline(false);
    await bob.page.waitForSelector('[data-connection="open"]');
    await waitForBodies(bob.page, ["one, edited", "Message deleted", "three", "four"]);
    await message(bob.page, "one, edited").getByTestId("message-edited").waitFor();
    await three.locator('[data-testid="reaction"][data-emoji="🎉"]').waitFor();
    // The server has both reactions, once each (the offline one went out, once).
    for (let i = 0;; i++) {
      const h = await api(env.server.url, "GET", `/api/conversations/${convId}/messages`, {
        token,
      });
      const m = h.body.messages.find((x: { seq: number }) => x.seq === seqs[2]);
      const got = m.reactions.map((r: { emoji: string; count: number }) => `${r.emoji}${r.count}`);
      if (got.length === 2 || i > 50) {
        assertEquals(got, ["🎉1", "👍1"]);
        break;
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
    assertEquals(bob.errors, []);
  },
);
