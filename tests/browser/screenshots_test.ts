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
  "screenshots of every main state in both themes, at desktop and phone sizes",
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
    await grace.page.getByTestId("new-conversation").waitFor();
    await openFromList(grace.page, withGrace);
    const newcomer = await env.user({ name: "newcomer", displayName: "New Person" });

    // Every main state, in both themes (the system's setting) at both sizes: test-artifacts/
    // <state>-<desktop|phone>-<light|dark>.png.
    const sizes = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } };
    for (const theme of ["light", "dark"] as const) {
      for (const [size, viewport] of Object.entries(sizes)) {
        const tag = `${size}-${theme}`;
        for (const p of [ada.page, newcomer.page]) {
          await p.emulateMedia({ colorScheme: theme });
          await p.setViewportSize(viewport);
        }
        // Signed out: the sign-in page.
        const out = await env.newContext({ viewport, colorScheme: theme });
        const signIn = await out.newPage();
        await signIn.goto(`${base}/login`);
        await shot(signIn, `01-sign-in-${tag}`);
        await out.close();

        // A new account: the welcome that opens the people search.
        await openChat(newcomer.page, base);
        // On a phone the list is the whole screen: its own empty state speaks there.
        await newcomer.page.getByTestId(size === "phone" ? "list-empty" : "welcome")
          .waitFor();
        await shot(newcomer.page, `02-welcome-${tag}`);

        await openChat(ada.page, base);
        await ada.page.getByTestId("unread-badge").first().waitFor();
        await shot(ada.page, `03-conversation-list-${tag}`);

        await openFromList(ada.page, withGrace);
        await waitForBodies(ada.page, talk.map(([, b]) => b));
        await ada.page.getByTestId("message-status").filter({ hasText: "Read" }).waitFor();
        await grace.page.getByTestId("composer").fill("");
        await grace.page.getByTestId("composer").pressSequentially("Looks great", { delay: 30 });
        await ada.page.getByTestId("typing").filter({ hasText: "Grace Hopper is typing…" })
          .waitFor();
        await ada.page.getByTestId("composer").fill("Thank you!");
        await shot(ada.page, `04-conversation-${tag}`);
        await ada.page.getByTestId("composer").fill("");

        if (size === "phone") {
          await ada.page.getByRole("link", { name: "Back to conversations" }).click();
          await ada.page.getByTestId("conversation-list").waitFor();
        }
        await ada.page.getByTestId("new-conversation").click();
        await ada.page.getByTestId("new-dialog").getByLabel("Who do you want to talk to?")
          .fill("a");
        await ada.page.getByTestId("user-result").first().waitFor();
        await shot(ada.page, `05-new-conversation-dialog-${tag}`);
        await ada.page.keyboard.press("Escape");
        await ada.page.getByTestId("new-dialog").getByLabel("Who do you want to talk to?")
          .waitFor({ state: "detached" });

        await openFromList(ada.page, crew);
        await ada.page.getByTestId("message-body").first().waitFor();
        await shot(ada.page, `06-group-${tag}`);
        await ada.page.getByTestId("group-info").click();
        await ada.page.getByTestId("info-dialog").getByTestId("member").nth(3).waitFor();
        await shot(ada.page, `07-group-info-${tag}`);
        await ada.page.keyboard.press("Escape");
        await ada.page.getByTestId("info-dialog").waitFor({ state: "hidden" });
      }
    }
    // On a phone, the open conversation replaces the list.
    await openChat(ada.page, base);
    await openFromList(ada.page, withGrace);
    await ada.page.getByTestId("composer").waitFor();
    assertEquals(await ada.page.getByTestId("conversation-list").isVisible(), false);
    assertEquals(ada.errors, []);
    assertEquals(grace.errors, []);
    assertEquals(newcomer.errors, []);
  },
);
