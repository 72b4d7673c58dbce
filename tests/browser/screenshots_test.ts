import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { api } from "../helpers/server.ts";
import {
  browserTest,
  openChat,
  openFromList,
  postMessage,
  shot,
  waitForBodies,
} from "./browser.ts";

browserTest(
  "screenshots of the main states: list, conversation, dialogs, phone width",
  async (env) => {
    const base = env.server.url;
    const ada = await env.user({ name: "ada", displayName: "Ada Lovelace" });
    const grace = await env.user({ name: "grace", displayName: "Grace Hopper" });
    const alan = await env.user({ name: "alan", displayName: "Alan Turing" });
    const kath = await env.user({ name: "katherine", displayName: "Katherine Johnson" });
    const create = async (token: string, body: unknown) =>
      (await api(base, "POST", "/api/conversations", { token, body })).body.conversation
        .id as string;
    const withGrace = await create(ada.accessToken, { kind: "direct", userId: grace.user.id });
    const crew = await create(ada.accessToken, {
      kind: "group",
      title: "Launch crew",
      memberIds: [alan.user.id, kath.user.id, grace.user.id],
    });
    const withAlan = await create(alan.accessToken, { kind: "direct", userId: ada.user.id });

    const talk: [typeof ada, string][] = [
      [grace, "Morning! Did the nightly build go green?"],
      [ada, "It did. All 412 tests passed, and the flaky socket test is finally fixed."],
      [grace, "What was it in the end?"],
      [
        ada,
        "A reconnect race: the client synced before the server had subscribed it.\nWrite-up: https://example.com/notes/reconnect-race",
      ],
      [grace, "Nice find. Ship it to staging?"],
      [ada, "Already there. Can you give it a quick look before the 3 pm demo?"],
      [grace, "On it. I'll check the phone layout too."],
    ];
    for (const [who, body] of talk) await postMessage(base, who.accessToken, withGrace, body);
    await postMessage(
      base,
      alan.accessToken,
      crew,
      "Slides for Thursday are in the shared folder.",
    );
    await postMessage(
      base,
      kath.accessToken,
      crew,
      "Trajectory numbers checked twice. We're good.",
    );
    await postMessage(base, alan.accessToken, withAlan, "Got a minute to talk about the cipher?");

    await openChat(grace.page, base);
    await ada.page.setViewportSize({ width: 1440, height: 900 });
    await openChat(ada.page, base);
    await ada.page.getByTestId("unread-badge").first().waitFor();
    await shot(ada.page, "09-conversation-list");

    await openFromList(ada.page, withGrace);
    await waitForBodies(ada.page, talk.map(([, b]) => b));
    await ada.page.getByTestId("message-status").filter({ hasText: "Read" }).waitFor();
    await grace.page.getByTestId("new-conversation").waitFor();
    await openFromList(grace.page, withGrace);
    await grace.page.getByTestId("composer").pressSequentially("Looks great", { delay: 30 });
    await ada.page.getByTestId("typing").filter({ hasText: "Grace Hopper is typing…" }).waitFor();
    await ada.page.getByTestId("composer").fill("Thank you!");
    await shot(ada.page, "10-conversation");

    await ada.page.getByTestId("new-conversation").click();
    await ada.page.getByTestId("new-dialog").getByLabel("Who do you want to talk to?").fill("a");
    await ada.page.getByTestId("user-result").first().waitFor();
    await shot(ada.page, "11-new-conversation-dialog");
    await ada.page.keyboard.press("Escape");
    await ada.page.getByTestId("new-dialog").getByLabel("Who do you want to talk to?")
      .waitFor({ state: "detached" });

    await openFromList(ada.page, crew);
    await ada.page.getByTestId("group-info").click();
    await ada.page.getByTestId("info-dialog").getByTestId("member").nth(3).waitFor();
    await shot(ada.page, "12-group-info");
    await ada.page.keyboard.press("Escape");

    await ada.page.setViewportSize({ width: 390, height: 844 });
    await ada.page.goto(`${base}/chat`);
    await ada.page.waitForSelector('[data-connection="open"]');
    assertEquals(await ada.page.getByTestId("conversation").count(), 0);
    await shot(ada.page, "13-phone-list");
    await openFromList(ada.page, withGrace);
    await ada.page.getByTestId("composer").waitFor();
    // On a phone, the open conversation replaces the list.
    assertEquals(await ada.page.getByTestId("conversation-list").isVisible(), false);
    await shot(ada.page, "14-phone-conversation");
    await ada.page.getByRole("link", { name: "Back to conversations" }).click();
    await ada.page.getByTestId("conversation-list").waitFor();
    await openFromList(ada.page, crew);
    await ada.page.getByTestId("group-info").click();
    await ada.page.getByTestId("info-dialog").getByTestId("member").nth(3).waitFor();
    await shot(ada.page, "15-phone-group-info");
    await ada.page.keyboard.press("Escape");

    // The same states in the dark theme (the system's setting), phone first, then desktop.
    await ada.page.emulateMedia({ colorScheme: "dark" });
    await ada.page.goto(`${base}/chat`);
    await ada.page.waitForSelector('[data-connection="open"]');
    await shot(ada.page, "13-phone-list-dark");
    await openFromList(ada.page, withGrace);
    await ada.page.getByTestId("composer").waitFor();
    await shot(ada.page, "14-phone-conversation-dark");
    await ada.page.getByRole("link", { name: "Back to conversations" }).click();
    await openFromList(ada.page, crew);
    await ada.page.getByTestId("group-info").click();
    await ada.page.getByTestId("info-dialog").getByTestId("member").nth(3).waitFor();
    await shot(ada.page, "15-phone-group-info-dark");
    await ada.page.keyboard.press("Escape");
    await ada.page.setViewportSize({ width: 1440, height: 900 });
    await openFromList(ada.page, withGrace);
    await waitForBodies(ada.page, talk.map(([, b]) => b));
    await shot(ada.page, "10-conversation-dark");
    await ada.page.getByTestId("new-conversation").click();
    await ada.page.getByTestId("new-dialog").getByLabel("Who do you want to talk to?").fill("a");
    await ada.page.getByTestId("user-result").first().waitFor();
    await shot(ada.page, "11-new-conversation-dialog-dark");
    await ada.page.keyboard.press("Escape");
    await openFromList(ada.page, crew);
    await ada.page.getByTestId("group-info").click();
    await ada.page.getByTestId("info-dialog").getByTestId("member").nth(3).waitFor();
    await shot(ada.page, "12-group-info-dark");
    assertEquals(ada.errors, []);
    assertEquals(grace.errors, []);
  },
);
