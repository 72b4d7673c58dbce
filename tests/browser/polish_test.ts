/**
 * What was left of the chat UI issue (issue 14): authors kept after they leave, group changes as
 * lines, assets compressed and cached, the start of a conversation, the page without script,
 * and the server's start-up output. Each test drives a real server (and, for the UI, a real
 * Chromium) the way a user or a browser would meet it.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { api, getPage } from "../helpers/server.ts";
import { browserTest, createDirect, openChat, postMessage, shot } from "./browser.ts";

/** Creates a group over the API; returns its id. */
async function group(base: string, owner: { accessToken: string }, title: string, ids: string[]) {
  const r = await api(base, "POST", "/api/conversations", {
    token: owner.accessToken,
    body: { kind: "group", title, memberIds: ids },
  });
  if (r.status !== 201) throw new Error(`group failed: ${r.status}`);
  return r.body.conversation.id as string;
}

/** The sender names shown above messages, in order. */
function senders(page: import("playwright-core").Page): Promise<string[]> {
  return page.getByTestId("message-sender").allTextContents();
}

browserTest(
  "a member who left keeps their name on their messages, also for someone who joins later",
  async (env) => {
    const [ada, bob, cy] = await Promise.all([
      env.user({ displayName: "Ada Owner" }),
      env.user({ displayName: "Bob Leaver" }),
      env.user({ displayName: "Cy Newcomer" }),
    ]);
    const base = env.server.url;
    const id = await group(base, ada, "Crew", [bob.user.id]);
    await postMessage(base, bob.accessToken, id, "bob was here");
    await postMessage(base, ada.accessToken, id, "thanks bob");
    const left = await api(base, "DELETE", `/api/conversations/${id}/members/${bob.user.id}`, {
      token: bob.accessToken,
    });
    assertEquals(left.status, 204);
    const added = await api(base, "POST", `/api/conversations/${id}/members`, {
      token: ada.accessToken,
      body: { userId: cy.user.id },
    });
    assert(added.status === 204 || added.status === 200, `add: ${added.status}`);

    // The page as served (no script) and the island after hydration both sign Bob's message.
    const html = await getPage(env.server, `/chat/${id}`, cy.cookie);
    assert(html.text.includes("Bob Leaver"), "the server-rendered page names Bob");
    assert(!html.text.includes("Former member"));
    await openChat(cy.page, base, id);
    await cy.page.getByTestId("message-body").filter({ hasText: "bob was here" }).waitFor();
    assertEquals((await senders(cy.page)).includes("Bob Leaver"), true);

    // History paged over the API carries the profiles of senders who are no longer members.
    const page = await api(base, "GET", `/api/conversations/${id}/messages`, {
      token: cy.accessToken,
    });
    const names = (page.body.users as { id: string; displayName: string }[])
      .map((u) => u.displayName).sort();
    assertEquals(names.includes("Bob Leaver"), true);

    // Ada, who saw Bob leave, still sees his name after a reload.
    await openChat(ada.page, base, id);
    await ada.page.getByTestId("message-body").filter({ hasText: "bob was here" }).waitFor();
    assertEquals((await senders(ada.page)).includes("Bob Leaver"), true);
    await shot(cy.page, "polish-author-kept");
    for (const u of [ada, cy]) assertEquals(u.errors, []);
  },
);

browserTest(
  "built files and pages go out compressed; hashed files are cached for a year; one copy of each message",
  async (env) => {
    const [ada, bob] = await Promise.all([
      env.user({ displayName: "Ada" }),
      env.user({ displayName: "Bob" }),
    ]);
    const base = env.server.url;
    const id = await group(base, ada, "Assets", [bob.user.id]);
    const token = "once-" + crypto.randomUUID();
    await postMessage(base, bob.accessToken, id, `${token} (https://example.com/a_(b))`);
    await postMessage(base, bob.accessToken, id, "and a newer one, for the list's preview");

    const seen = new Map<string, Record<string, string>>();
    ada.page.on("response", async (r) => {
      const type = r.request().resourceType();
      if (type === "document" || type === "script" || type === "stylesheet") {
        seen.set(`${type} ${new URL(r.url()).pathname}`, await r.allHeaders());
      }
    });
    await openChat(ada.page, base, id);
    await ada.page.getByTestId("message-body").filter({ hasText: token }).waitFor();
    const entries = [...seen.entries()];
    const doc = entries.find(([k]) => k.startsWith("document"))!;
    assertEquals(doc[1]["content-encoding"], "br");
    for (const kind of ["script", "stylesheet"]) {
      const [name, headers] = entries.find(([k]) => k.startsWith(kind))!;
      assert(/\.[0-9a-f]{16}\.(js|css)$/.test(name), `${name} is named for its content`);
      assertEquals(headers["content-encoding"], "br", name);
      assertEquals(headers["cache-control"], "public, max-age=31536000, immutable", name);
      assertEquals(headers["vary"], "Accept-Encoding", name);
    }

    // A client that takes only gzip gets gzip; one that takes nothing gets the plain bytes.
    const script = entries.find(([k]) => k.startsWith("script"))![0].split(" ")[1];
    for (const [accept, want] of [["gzip", "gzip"], ["identity", null]] as const) {
      const res = await fetch(base + script, { headers: { "accept-encoding": accept } });
      await res.body?.cancel();
      assertEquals(res.headers.get("content-encoding"), want, accept);
    }

    // The page holds each message's text once (markup, not again in the island's props), and
    // the hydrated island still shows it, link and all.
    const html = await getPage(env.server, `/chat/${id}`, ada.cookie);
    assertEquals(html.text.split(token).length - 1, 1);
    const body = ada.page.getByTestId("message-body").filter({ hasText: token });
    assertEquals(await body.getByRole("link").getAttribute("href"), "https://example.com/a_(b)");
    assertEquals(await body.textContent(), `${token} (https://example.com/a_(b))`);
    // The island holds the text too: a reply arriving live leaves the earlier bodies in place.
    await postMessage(base, bob.accessToken, id, "live one");
    await ada.page.getByTestId("message-body").filter({ hasText: "live one" }).waitFor();
    assertEquals(await body.textContent(), `${token} (https://example.com/a_(b))`);
    assertEquals(ada.errors, []);
  },
);

browserTest(
  "the conversation shows where it starts; Jump to latest leaves the last message clear",
  async (env) => {
    const [ada, bob] = await Promise.all([
      env.user({ displayName: "Ada" }),
      env.user({ displayName: "Bob Peer" }),
    ]);
    const base = env.server.url;
    const id = await createDirect(base, ada, bob);
    const tall = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join("\n");
    for (let i = 0; i < 6; i++) await postMessage(base, bob.accessToken, id, `${i} ${tall}`);
    // The newest is ours: right-aligned, where a floating button would sit.
    await postMessage(base, ada.accessToken, id, "the newest message, ours, " + "wide ".repeat(30));
    await openChat(ada.page, base, id);
    const start = ada.page.getByTestId("conversation-start");
    assertEquals(
      (await start.textContent())?.trim(),
      "This is the start of your conversation with Bob Peer.",
    );

    // Scrolled up a little: the button shows, and the newest message is not under it.
    const scroller = ada.page.getByTestId("message-scroller");
    for (const up of [45, 60, 120, 200]) {
      await scroller.evaluate((el, up) => {
        el.scrollTop = -up;
        el.dispatchEvent(new Event("scroll"));
      }, up);
      const jump = ada.page.getByTestId("jump-latest");
      await jump.waitFor();
      const button = (await jump.boundingBox())!;
      const last = (await ada.page.getByTestId("message-body").last().boundingBox())!;
      const view = (await scroller.boundingBox())!;
      const lastVisibleBottom = Math.min(last.y + last.height, view.y + view.height);
      const overlap = last.y < button.y + button.height && lastVisibleBottom > button.y &&
        last.x < button.x + button.width && last.x + last.width > button.x;
      assert(button.y >= view.y + view.height, "the button lies below the list, not over it");
      assert(
        !overlap,
        `scrolled up ${up}px: the button ${JSON.stringify(button)} covers the newest message ${
          JSON.stringify(last)
        } in ${JSON.stringify(view)}`,
      );
    }
    await shot(ada.page, "polish-jump-latest");
    assertEquals(ada.errors, []);
  },
);

browserTest(
  "the conversation list shows who is typing and marks an unsent draft",
  async (env) => {
    const [ada, bob, cy] = await Promise.all([
      env.user({ displayName: "Ada" }),
      env.user({ displayName: "Bob" }),
      env.user({ displayName: "Cy" }),
    ]);
    const base = env.server.url;
    const withBob = await createDirect(base, ada, bob);
    const withCy = await createDirect(base, ada, cy);
    await postMessage(base, bob.accessToken, withBob, "hi Ada");
    await postMessage(base, cy.accessToken, withCy, "hello from Cy");
    await openChat(ada.page, base, withBob);
    await ada.page.getByTestId("composer").fill("half a thought");
    // Another conversation opened: the one left behind is marked with its draft.
    await ada.page.locator(`[data-testid="conversation-item"][data-id="${withCy}"]`).click();
    const item = (id: string) =>
      ada.page.locator(`[data-testid="conversation-item"][data-id="${id}"]`);
    await item(withBob).getByTestId("list-draft").waitFor();
    assertEquals(
      await item(withBob).getByTestId("conversation-preview").textContent(),
      "Draft: half a thought",
    );
    // Kept across a reload of the tab.
    await ada.page.reload();
    await item(withBob).getByTestId("list-draft").waitFor();

    // Bob typing shows in Ada's list, in place of the preview.
    await openChat(bob.page, base, withBob);
    await bob.page.getByTestId("composer").pressSequentially("typing now", { delay: 50 });
    await item(withBob).getByTestId("list-typing").waitFor();
    assertEquals(await item(withBob).getByTestId("list-typing").textContent(), "typing…");
    await shot(ada.page, "polish-list-typing");
    for (const u of [ada, bob]) assertEquals(u.errors, []);
  },
);

browserTest(
  "without JavaScript a member leaves a group through a form, asked first; the box promises no Enter",
  async (env) => {
    const [ada, bob] = await Promise.all([
      env.user({ displayName: "Ada" }),
      env.user({ displayName: "Bob" }),
    ]);
    const base = env.server.url;
    const id = await group(base, ada, "No Script Club", [bob.user.id]);
    await postMessage(base, ada.accessToken, id, "welcome");

    // A cross-site form post with Bob's cookie is refused and leaves him in.
    const forged = await fetch(`${base}/chat/${id}/leave`, {
      method: "POST",
      headers: {
        cookie: bob.cookie,
        origin: "https://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "",
      redirect: "manual",
    });
    await forged.body?.cancel();
    assertEquals(forged.status, 403);

    const context = await env.newContext({ javaScriptEnabled: false });
    const [name, value] = bob.cookie.split("=");
    await context.addCookies([{ name, value, url: base }]);
    const page = await context.newPage();
    await page.goto(`${base}/chat/${id}`);
    const box = page.getByTestId("composer");
    assert(!/enter/i.test((await box.getAttribute("placeholder")) ?? ""), "placeholder");
    await page.getByTestId("leave-link").click();
    await page.waitForURL(`${base}/chat/${id}/leave`);
    await page.getByRole("heading", { name: "Leave No Script Club?" }).waitFor();
    await shot(page, "polish-leave-no-js");
    // Cancel goes back and changes nothing.
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.waitForURL(`${base}/chat/${id}`);
    await page.getByTestId("leave-link").click();
    await page.getByTestId("leave-confirm").click();
    await page.waitForURL(`${base}/chat`);
    assertEquals(
      await page.locator(`[data-testid="conversation-item"][data-id="${id}"]`).count(),
      0,
    );
    const after = await api(base, "GET", `/api/conversations/${id}`, { token: bob.accessToken });
    assertEquals(after.status, 404);
    await context.close();
  },
);

browserTest(
  "group changes show as lines in order for a member who joins later, never as unread",
  async (env) => {
    const [ada, bob, cy] = await Promise.all([
      env.user({ displayName: "Ada" }),
      env.user({ displayName: "Bob" }),
      env.user({ displayName: "Cy" }),
    ]);
    const base = env.server.url;
    const id = await group(base, ada, "Crew", [bob.user.id]);
    await postMessage(base, bob.accessToken, id, "hello crew");
    const renamed = await api(base, "PATCH", `/api/conversations/${id}`, {
      token: ada.accessToken,
      body: { title: "Night crew" },
    });
    assert(renamed.status < 300, `rename: ${renamed.status}`);
    await api(base, "DELETE", `/api/conversations/${id}/members/${bob.user.id}`, {
      token: bob.accessToken,
    });
    await api(base, "POST", `/api/conversations/${id}/members`, {
      token: ada.accessToken,
      body: { userId: cy.user.id },
    });

    // The changes since Cy joined ("Ada added you") are not unread.
    const list = await api(base, "GET", "/api/conversations", { token: cy.accessToken });
    const entry = list.body.conversations.find((c: { id: string }) => c.id === id);
    assertEquals(entry.unread, 0);

    await openChat(cy.page, base, id);
    await cy.page.getByTestId("system-line").first().waitFor();
    const lines = await cy.page.getByTestId("system-line").allTextContents();
    const want = [
      "Ada created the group “Crew”",
      "Ada renamed the group to “Night crew”",
      "Bob left",
      "Ada added you",
    ];
    const at = want.map((w) => lines.indexOf(w));
    assert(at.every((i) => i >= 0), `lines ${JSON.stringify(lines)} lack one of ${want}`);
    assertEquals([...at].sort((a, b) => a - b), at, "in the order they happened");
    // Bob's message sits among them where it was said, signed with his name.
    const order = await cy.page.locator(
      '[data-testid="system-line"], [data-testid="message-body"]',
    ).allTextContents();
    assert(
      order.indexOf("hello crew") > order.indexOf("Ada created the group “Crew”") &&
        order.indexOf("hello crew") < order.indexOf("Bob left"),
    );
    assertEquals(await cy.page.getByTestId("conversation-subtitle").textContent(), "2 members");
    await shot(cy.page, "polish-system-lines");

    assertEquals(cy.errors, []);
  },
);
