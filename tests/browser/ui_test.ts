/**
 * The chat UI as a new user meets it (issue 14): each test is one defect a person noticed,
 * checked in a real Chromium against a real server.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Page } from "playwright-core";
import { api } from "../helpers/server.ts";
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
    // Bubbles take their direction from their text, so Hebrew and Arabic read right to left.
    assertEquals(
      await ada.page.getByTestId("message-body").first().getAttribute("dir"),
      "auto",
    );
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

/** Creates a group over the API; returns its id. */
async function group(base: string, owner: { accessToken: string }, title: string, ids: string[]) {
  const r = await api(base, "POST", "/api/conversations", {
    token: owner.accessToken,
    body: { kind: "group", title, memberIds: ids },
  });
  return r.body.conversation.id as string;
}

browserTest(
  "removing a member and leaving a group ask first, saying what will happen",
  async (env) => {
    const [alice, bob, carol] = await Promise.all([
      env.user({ displayName: "Alice Owner" }),
      env.user({ displayName: "Bob Member" }),
      env.user({ displayName: "Carol Member" }),
    ]);
    const id = await group(env.server.url, alice, "Launch", [bob.user.id, carol.user.id]);
    await openChat(alice.page, env.server.url, id);
    await alice.page.getByTestId("group-info").click();
    const members = alice.page.getByTestId("info-dialog").getByTestId("member");
    await members.nth(2).waitFor();

    // Remove asks, naming who and what follows; Cancel keeps Bob.
    await members.filter({ hasText: "Bob Member" }).getByTestId("remove-member").click();
    const confirm = alice.page.getByTestId("confirm-dialog");
    await confirm.getByRole("heading", { name: "Remove Bob Member from Launch?" }).waitFor();
    assert((await confirm.textContent())!.includes("will no longer get this group's messages"));
    // The safe choice has the focus, so a stray Enter removes nobody.
    assertEquals(
      await confirm.getByTestId("confirm-cancel").evaluate((b) => b === document.activeElement),
      true,
    );
    await shot(alice.page, "ui-confirm-remove");
    await alice.page.keyboard.press("Enter");
    await confirm.waitFor({ state: "hidden" });
    assertEquals(await members.count(), 3);

    await members.filter({ hasText: "Bob Member" }).getByTestId("remove-member").click();
    await confirm.getByTestId("confirm-ok").click();
    await members.filter({ hasText: "Bob Member" }).waitFor({ state: "detached" });
    assertEquals(await members.count(), 2);

    // Leaving asks too, and only then does the group go from Carol's list.
    await openChat(carol.page, env.server.url, id);
    await carol.page.getByTestId("group-info").click();
    await carol.page.getByTestId("leave-group").click();
    const leave = carol.page.getByTestId("confirm-dialog");
    await leave.getByRole("heading", { name: "Leave Launch?" }).waitFor();
    assert((await leave.textContent())!.includes("You will stop getting this group's messages"));
    const item = carol.page.locator(`[data-testid="conversation-item"][data-id="${id}"]`);
    assertEquals(await item.count(), 1);
    await leave.getByRole("button", { name: "Leave group" }).click();
    await item.waitFor({ state: "detached" });
    for (const u of [alice, carol]) assertEquals(u.errors, []);
  },
);

/** The data-testid of the focused element, or its tag name. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el?.dataset.testid ?? el?.tagName ?? "";
  });

browserTest(
  "the new-chat dialog opens on its search field; adding someone to a new group clears it",
  async (env) => {
    const ada = await env.user({ displayName: "Ada Lovelace" });
    const grace = await env.user({ displayName: "Grace Hopper" });
    const alan = await env.user({ displayName: "Alan Turing" });
    await openChat(ada.page, env.server.url);
    await ada.page.getByTestId("new-conversation").click();
    const dialog = ada.page.getByTestId("new-dialog");
    await dialog.getByTestId("user-search").waitFor();
    assertEquals(await focused(ada.page), "user-search");
    // Typing goes straight into the search.
    await ada.page.keyboard.type(grace.user.username);
    await dialog.getByTestId("user-result").filter({ hasText: "Grace Hopper" }).waitFor();

    await dialog.getByTestId("mode-group").click();
    await dialog.getByTestId("user-search").fill(grace.user.username);
    await dialog.getByTestId("user-result").filter({ hasText: "Grace Hopper" })
      .getByTestId("pick-user").click();
    await dialog.getByTestId("picked").filter({ hasText: "Grace Hopper" }).waitFor();
    assertEquals(await dialog.getByTestId("user-search").inputValue(), "");
    assertEquals(await focused(ada.page), "user-search");
    // The next person can be typed at once.
    await ada.page.keyboard.type(alan.user.username);
    await dialog.getByTestId("user-result").filter({ hasText: "Alan Turing" })
      .getByTestId("pick-user").click();
    await dialog.getByTestId("picked").filter({ hasText: "Alan Turing" }).waitFor();
    assertEquals(await dialog.getByTestId("user-search").inputValue(), "");
    assertEquals(ada.errors, []);
  },
);

browserTest(
  "the composer counts code points like the server, refuses over the limit, keeps pasted text and grows",
  async (env) => {
    const ada = await env.user({ displayName: "Ada" });
    const bob = await env.user({ displayName: "Bob" });
    const id = await createDirect(env.server.url, ada, bob);
    await openChat(ada.page, env.server.url, id);
    const box = ada.page.getByTestId("composer");
    const height = () => box.evaluate((e) => e.getBoundingClientRect().height);
    const one = await height();

    // The box grows with its lines, then stops and scrolls.
    await box.fill("line\n".repeat(3) + "line");
    const four = await height();
    assert(four > one + 20, `4 lines: ${four}px vs 1 line: ${one}px`);
    await box.fill("line\n".repeat(40) + "line");
    const many = await height();
    assert(many > four && many < 300, `41 lines: ${many}px`);
    assert(await box.evaluate((e) => e.scrollHeight > e.clientHeight + 100));

    // 2,100 emoji are 4,200 UTF-16 units but 2,100 characters to the server: no counter, and
    // they all go.
    const emoji = "😀".repeat(2100);
    await box.fill(emoji);
    assertEquals((await box.inputValue()).length, 4200);
    assertEquals(await ada.page.getByTestId("composer-count").count(), 0);
    await box.press("Enter");
    await ada.page.getByTestId("message-status").filter({ hasText: "Sent" }).waitFor();
    assertEquals([...(await ada.page.getByTestId("message-body").textContent())!].length, 2100);

    // Near the limit a counter shows; past it, nothing pasted is dropped and sending is refused
    // with a message that says why.
    await box.fill("a".repeat(3900));
    await ada.page.getByTestId("composer-count").filter({ hasText: "3,900 / 4,000" }).waitFor();
    const long = "b".repeat(4100);
    await box.fill(long);
    assertEquals(await box.inputValue(), long);
    await box.press("Enter");
    const count = ada.page.getByTestId("composer-count");
    await count.filter({ hasText: "100 too many characters" }).waitFor();
    assertEquals(await count.getAttribute("role"), "alert");
    assertEquals(await ada.page.getByTestId("send").isDisabled(), true);
    assertEquals(await box.inputValue(), long);
    assertEquals(await ada.page.getByTestId("message-body").count(), 1);
    await shot(ada.page, "ui-composer-over-limit");
    assertEquals(ada.errors, []);
  },
);

/** Visible controls smaller than a fingertip (44 × 44 CSS px), outside message text. */
function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("a[href], button, textarea, input, select")]
      // A visually hidden input is tapped through its label: the label is the target.
      .map((e) => e.matches("input.sr-only") ? e.closest("label") ?? e : e)
      .filter((e) => e.getClientRects().length && !e.closest('[data-testid="message-body"]'))
      .filter((e) => {
        const r = e.getBoundingClientRect();
        return r.width < 44 || r.height < 44;
      })
      .map((e) => {
        const r = e.getBoundingClientRect();
        return `${e.tagName} "${e.textContent?.trim()}" ${Math.round(r.width)}×${
          Math.round(r.height)
        }`;
      })
  );
}

/** Visible headers (banner-like bars) on the page. */
const headers = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("header")].filter((h) => h.getClientRects().length).length
  );

browserTest(
  "phone: one header, 44 px targets, Enter makes a new line and the button sends, placeholder fits",
  async (env) => {
    const ada = await env.user({ displayName: "Ada", viewport: PHONE, touch: true });
    const bob = await env.user({ displayName: "Bob" });
    const id = await createDirect(env.server.url, ada, bob);
    await postMessage(env.server.url, bob.accessToken, id, "Hi Ada, see https://example.com");
    await openChat(ada.page, env.server.url);
    assertEquals(await smallTargets(ada.page), []);

    await ada.page.locator(`[data-testid="conversation-item"][data-id="${id}"]`).tap();
    await ada.page.getByTestId("conversation-heading").waitFor();
    assertEquals(await headers(ada.page), 1);
    assertEquals(await smallTargets(ada.page), []);

    // The placeholder is whole, not cut off.
    const box = ada.page.getByTestId("composer");
    const fits = await box.evaluate((el: HTMLTextAreaElement) => {
      const ctx = document.createElement("canvas").getContext("2d")!;
      const cs = getComputedStyle(el);
      ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
      const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      return ctx.measureText(el.placeholder).width <= room;
    });
    assertEquals(fits, true);

    // Enter starts a new line; the send button sends.
    await box.tap();
    await box.pressSequentially("Two lines");
    await box.press("Enter");
    await box.pressSequentially("on a phone");
    assertEquals(await box.inputValue(), "Two lines\non a phone");
    assertEquals(await ada.page.getByTestId("message-body").count(), 1);
    await ada.page.getByTestId("send").tap();
    await ada.page.getByTestId("message-body").filter({ hasText: "on a phone" }).waitFor();
    assertEquals(await box.inputValue(), "");
    assertEquals(await sideways(ada.page), { page: 0, list: 0 });
    await shot(ada.page, "ui-phone-conversation");
    assertEquals(ada.errors, []);
  },
);

browserTest(
  "a new account is told what to do; the search finds people by any word, in any case or accent",
  async (env) => {
    const ada = await env.user({ displayName: "Ada" });
    await env.user({ displayName: "Grace Brewster Hopper" });
    await env.user({ displayName: "Émile Zola" });
    await openChat(ada.page, env.server.url);
    const welcome = ada.page.getByTestId("welcome");
    assert((await welcome.textContent())!.includes("Find someone by their name or username"));
    await shot(ada.page, "ui-welcome");
    await welcome.getByTestId("find-people").click();
    const dialog = ada.page.getByTestId("new-dialog");
    await dialog.getByTestId("user-search").waitFor();
    assertEquals(await focused(ada.page), "user-search");

    const found = dialog.getByTestId("user-result");
    for (
      const [q, who] of [["Hopper", "Grace Brewster Hopper"], ["brew", "Grace Brewster Hopper"], [
        "emile",
        "Émile Zola",
      ], ["ZOLA", "Émile Zola"]]
    ) {
      await dialog.getByTestId("user-search").fill(q);
      await found.filter({ hasText: who }).waitFor();
      assertEquals(await found.count(), 1, `"${q}" finds only ${who}`);
    }
    assertEquals(ada.errors, []);
  },
);

const AXE = await Deno.readTextFile(
  new URL("../../node_modules/axe-core/axe.min.js", import.meta.url),
);

/** axe-core's serious and critical findings on the page as it is now, one line each. */
async function axe(page: Page, where: string): Promise<string[]> {
  // Run through the DevTools protocol, which the page's CSP (rightly) does not let a <script> do.
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    type Node = { target: string[]; failureSummary?: string };
    type Violation = { id: string; impact: string; nodes: Node[] };
    const { axe } = globalThis as unknown as {
      axe: { run(ctx: Document, o: unknown): Promise<{ violations: Violation[] }> };
    };
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) =>
        `${v.id}: ${
          v.nodes.map((n) =>
            n.target.join(" ") + " " + (n.failureSummary ?? "").split("\n").slice(1, 2).join("")
          ).join(" | ")
        }`
      );
  });
  return found.map((f: string) => `${where}: ${f}`);
}

browserTest(
  "axe finds no serious or critical problem on any page or dialog, in light and dark",
  async (env) => {
    const base = env.server.url;
    const ada = await env.user({ displayName: "Ada Lovelace" });
    const grace = await env.user({ displayName: "Grace Hopper" });
    const id = await createDirect(base, ada, grace);
    const crew = await group(base, ada, "Launch crew", [grace.user.id]);
    await postMessage(
      base,
      grace.accessToken,
      id,
      "Morning! Build is green: https://example.com/ci",
    );
    await postMessage(base, ada.accessToken, id, "Great, shipping it.");
    await postMessage(base, grace.accessToken, crew, "Slides are in the folder.");
    const anon = await (await env.newContext()).newPage();
    const found: string[] = [];
    for (const scheme of ["light", "dark"] as const) {
      for (const p of [ada.page, anon]) await p.emulateMedia({ colorScheme: scheme });
      await anon.goto(`${base}/login`);
      found.push(...await axe(anon, `${scheme} login`));
      await anon.goto(`${base}/register`);
      found.push(...await axe(anon, `${scheme} register`));

      await openChat(ada.page, base);
      found.push(...await axe(ada.page, `${scheme} list`));
      await ada.page.locator(`[data-testid="conversation-item"][data-id="${id}"]`).click();
      await ada.page.getByTestId("message-body").filter({ hasText: "shipping" }).waitFor();
      found.push(...await axe(ada.page, `${scheme} conversation`));
      await ada.page.getByTestId("new-conversation").click();
      await ada.page.getByTestId("user-search").fill("grace");
      await ada.page.getByTestId("user-result").first().waitFor();
      found.push(...await axe(ada.page, `${scheme} new chat`));
      await ada.page.keyboard.press("Escape");
      await ada.page.locator(`[data-testid="conversation-item"][data-id="${crew}"]`).click();
      await ada.page.getByTestId("message-body").filter({ hasText: "Slides" }).waitFor();
      found.push(...await axe(ada.page, `${scheme} group`));
      await ada.page.getByTestId("group-info").click();
      await ada.page.getByTestId("member").nth(1).waitFor();
      found.push(...await axe(ada.page, `${scheme} group info`));
      await ada.page.getByTestId("leave-group").click();
      await ada.page.getByTestId("confirm-dialog").waitFor();
      found.push(...await axe(ada.page, `${scheme} confirm`));
      await ada.page.getByTestId("confirm-cancel").click();
      await ada.page.goto(`${base}/settings`);
      found.push(...await axe(ada.page, `${scheme} settings`));
    }
    assertEquals(found, []);
    assertEquals(ada.errors, []);
  },
);

/** The page's background and the main text colour, as computed. */
const colours = (page: Page) =>
  page.evaluate(() => ({
    page: getComputedStyle(document.body).backgroundColor,
    heading: getComputedStyle(document.querySelector('[data-testid="conversation-heading"]')!)
      .color,
    bubble: getComputedStyle(
      document.querySelector('[data-mine="false"] [data-testid="message-body"]')!,
    ).backgroundColor,
  }));

/** Whether an rgb()/oklch colour is dark, by its lightness. */
function dark(colour: string): boolean {
  const rgb = colour.match(/rgba?\(([\d.]+), ([\d.]+), ([\d.]+)/);
  if (rgb) return (+rgb[1] + +rgb[2] + +rgb[3]) / 3 < 80;
  const ok = colour.match(/oklch\(([\d.]+)/);
  return !!ok && +ok[1] < 0.35;
}

browserTest(
  "dark theme follows the system setting, and the switch overrides it and is remembered",
  async (env) => {
    const base = env.server.url;
    const ada = await env.user({ displayName: "Ada" });
    const bob = await env.user({ displayName: "Bob" });
    const id = await createDirect(base, ada, bob);
    await postMessage(base, bob.accessToken, id, "Evening!");
    await ada.page.emulateMedia({ colorScheme: "dark" });
    await openChat(ada.page, base, id);
    await ada.page.getByTestId("message-body").waitFor();
    let c = await colours(ada.page);
    assert(dark(c.page) && dark(c.bubble) && !dark(c.heading), JSON.stringify(c));
    await shot(ada.page, "ui-dark-system");

    await ada.page.emulateMedia({ colorScheme: "light" });
    c = await colours(ada.page);
    assert(!dark(c.page) && !dark(c.bubble) && dark(c.heading), JSON.stringify(c));

    // The switch: Auto → Dark, which holds against a light system and across a reload.
    const sw = ada.page.getByTestId("theme-switch");
    assertEquals(await sw.getAttribute("aria-label"), "Theme: Auto");
    assertEquals((await sw.textContent())!.trim(), "Auto");
    await sw.click();
    assertEquals(await sw.getAttribute("aria-label"), "Theme: Dark");
    assertEquals((await sw.textContent())!.trim(), "Dark");
    c = await colours(ada.page);
    assert(dark(c.page) && dark(c.bubble), JSON.stringify(c));
    await openChat(ada.page, base, id);
    await ada.page.getByTestId("theme-switch").filter({ hasText: "Dark" }).waitFor();
    c = await colours(ada.page);
    assert(dark(c.page) && dark(c.bubble), JSON.stringify(c));
    // Then Light against a dark system, then back to Auto.
    await ada.page.emulateMedia({ colorScheme: "dark" });
    await sw.click();
    c = await colours(ada.page);
    assert(!dark(c.page) && !dark(c.bubble), JSON.stringify(c));
    await sw.click();
    assertEquals(await sw.getAttribute("aria-label"), "Theme: Auto");
    assertEquals((await sw.textContent())!.trim(), "Auto");
    c = await colours(ada.page);
    assert(dark(c.page), JSON.stringify(c));
    assertEquals(ada.errors, []);
  },
);

browserTest("the sign-up form shows every problem at once", async (env) => {
  const page = await (await env.newContext()).newPage();
  await page.goto(`${env.server.url}/register`);
  await page.getByLabel("Username").fill("ab");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.locator("#f-username-error").waitFor();
  assert((await page.locator("#f-username-error").textContent())!.length > 0);
  assert((await page.locator("#f-password-error").textContent())!.length > 0);
  assertEquals(await page.getByLabel("Username").inputValue(), "ab");
  assertEquals(await page.getByLabel("Username").getAttribute("aria-invalid"), "true");
  assertEquals(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");
  await shot(page, "ui-register-errors");
});
