/**
 * What was left of the chat UI issue (issue 14): authors kept after they leave, group changes as
 * lines, assets compressed and cached, the start of a conversation, the page without script,
 * and the server's start-up output. Each test drives a real server (and, for the UI, a real
 * Chromium) the way a user or a browser would meet it.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { api, getPage } from "../helpers/server.ts";
import { browserTest, openChat, postMessage, shot } from "./browser.ts";

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
