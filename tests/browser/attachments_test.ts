import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { sampleImages } from "../../lib/attachments/testing.ts";
import { api } from "../helpers/server.ts";
import { browserTest, createDirect, openChat, shot } from "./browser.ts";

/** Pastes a file into the message box, as the browser does for a copied image. */
async function pasteFile(page: Page, bytes: Uint8Array, name: string, type: string) {
  await page.getByTestId("composer").evaluate(
    (el, [data, name, type]) => {
      const dt = new DataTransfer();
      dt.items.add(
        new File([new Uint8Array(data as number[])], name as string, {
          type: type as string,
        }),
      );
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true }));
    },
    [[...bytes], name, type],
  );
}

/** Waits until every attached file is up and waits for Send (the composer then asks for a caption). */
async function attachedAndReady(page: Page, name: string) {
  await page.getByTestId("upload").filter({ hasText: name }).getByTestId("upload-ready").waitFor();
  await page.locator('[data-testid="composer"][placeholder="Add a caption…"]').waitFor();
}

browserTest(
  "one user pastes an image and attaches a PDF; the other sees the preview, opens the viewer, downloads the file",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user({ viewport: { width: 390, height: 844 } });
    const convId = await createDirect(env.server.url, alice, bob);
    await openChat(alice.page, env.server.url, convId);
    await openChat(bob.page, env.server.url, convId);

    const photo = (await sampleImages(1000, 600)).jpeg;
    await pasteFile(alice.page, photo, "image.jpg", "image/jpeg");
    // The photo goes up at once, but its message waits for Send, with a caption typed meanwhile.
    await attachedAndReady(alice.page, "image.jpg");
    const caption = "The view from the roof, 7 pm";
    await alice.page.getByTestId("composer").fill(caption);
    await alice.page.getByTestId("composer").press("Enter");
    // Sent (acked): the list's preview says "Photo".
    const item = alice.page.locator(`[data-testid="conversation-item"][data-id="${convId}"]`);
    await item.getByTestId("conversation-preview").filter({ hasText: "You: Photo" }).waitFor();
    await alice.page.getByTestId("image-attachment").waitFor();
    const pdf = new TextEncoder().encode("%PDF-1.4\n% a small test document\n%%EOF\n");
    await alice.page.getByTestId("attach-input").setInputFiles({
      name: "report.pdf",
      mimeType: "application/pdf",
      buffer: Buffer.from(pdf),
    });
    // No caption this time: Send is enabled by the attachment alone.
    await attachedAndReady(alice.page, "report.pdf");
    await alice.page.getByTestId("send").click();
    await alice.page.getByTestId("upload").waitFor({ state: "detached" });
    await alice.page.locator('[data-testid="composer"][placeholder="Write a message…"]').waitFor();

    // The caption is the image message's body (contract part A), the PDF has none.
    await item.getByTestId("conversation-preview").filter({ hasText: "You: report.pdf" }).waitFor();
    const history = await api(env.server.url, "GET", `/api/conversations/${convId}/messages`, {
      token: alice.accessToken,
    });
    const sent = history.body.messages.filter((m: { kind: string }) => m.kind !== "system");
    assertEquals(
      sent.map((m: { kind: string; body: string }) => [m.kind, m.body]).slice(-2),
      [["image", caption], ["file", ""]],
    );

    // Bob, at phone width, sees the photo's preview at its aspect ratio, then the file.
    const img = bob.page.getByTestId("image-attachment").locator("img");
    await img.waitFor();
    await bob.page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="image-attachment"] img') as HTMLImageElement;
      return el?.complete && el.naturalWidth > 0;
    });
    const natural = await img.evaluate((
      el: HTMLImageElement,
    ) => [el.naturalWidth, el.naturalHeight]);
    assertEquals(natural, [720, 432], "the preview, not the original");
    const box = (await bob.page.getByTestId("image-attachment").boundingBox())!;
    assert(
      Math.abs(box.width / box.height - 1000 / 600) < 0.05,
      `aspect ${box.width}×${box.height}`,
    );
    assert(box.width <= 390);
    // The caption shows under the photo, in the same message.
    await bob.page.locator("li", { has: bob.page.getByTestId("image-attachment") })
      .getByTestId("message-body").filter({ hasText: caption }).waitFor();
    const row = bob.page.getByTestId("file-attachment");
    await row.getByTestId("file-name").filter({ hasText: "report.pdf" }).waitFor();
    assertEquals(await row.getByTestId("file-size").textContent(), `${pdf.length} B`);
    await shot(bob.page, "attachments-phone");

    // The viewer shows the original, and Escape closes it.
    await bob.page.getByTestId("image-attachment").click();
    const viewer = bob.page.getByTestId("image-viewer");
    await viewer.waitFor();
    const full = viewer.locator("img");
    await bob.page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="image-viewer"] img') as HTMLImageElement;
      return el?.complete && el.naturalWidth > 0;
    });
    assertEquals(await full.evaluate((el: HTMLImageElement) => el.naturalWidth), 1000);
    await bob.page.keyboard.press("Escape");
    await viewer.waitFor({ state: "hidden" });

    // The download is byte-exact.
    const [download] = await Promise.all([
      bob.page.waitForEvent("download"),
      row.getByTestId("file-download").click(),
    ]);
    assertEquals(download.suggestedFilename(), "report.pdf");
    const saved = await Deno.readFile((await download.path())!);
    assertEquals(saved, pdf);

    // The list shows the newest message as the file's name.
    await item.getByTestId("conversation-preview").filter({ hasText: "You: report.pdf" }).waitFor();

    // A file dropped on the conversation is sent too.
    await alice.page.getByTestId("conversation").evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(["dropped text"], "dropped.txt", { type: "text/plain" }));
      el.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true }));
      el.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true }));
    });
    await attachedAndReady(alice.page, "dropped.txt");
    await alice.page.getByTestId("send").click();
    await bob.page.getByTestId("file-name").filter({ hasText: "dropped.txt" }).waitFor();
    await item.getByTestId("conversation-preview").filter({ hasText: "You: dropped.txt" })
      .waitFor();
    await alice.page.getByTestId("drop-zone").waitFor({ state: "detached" });

    assertEquals(alice.errors, []);
    assertEquals(bob.errors, []);
  },
);

browserTest(
  "an upload shows progress and can be cancelled; a failed one says why and can be retried",
  async (env) => {
    const alice = await env.user();
    const bob = await env.user();
    const convId = await createDirect(env.server.url, alice, bob);
    await openChat(alice.page, env.server.url, convId);
    const page = alice.page;

    // Hold the upload: the row shows, with a way to cancel it.
    let held: (() => Promise<void>) | null = null;
    await page.route("**/attachments?**", (route) => {
      held = () => route.abort();
    });
    await page.getByTestId("attach-input").setInputFiles({
      name: "slow.bin",
      mimeType: "application/octet-stream",
      buffer: Buffer.alloc(2000),
    });
    const upload = page.getByTestId("upload");
    await upload.filter({ hasText: "slow.bin" }).waitFor();
    await upload.getByRole("progressbar").waitFor();
    await upload.getByRole("button", { name: "Cancel" }).click();
    await upload.waitFor({ state: "detached" });
    await (held as (() => Promise<void>) | null)?.();
    await page.unroute("**/attachments?**");

    // Refused once: the reason shows, and Retry sends it for real.
    let refused = false;
    await page.route("**/attachments?**", async (route) => {
      if (refused) return await route.continue();
      refused = true;
      await route.fulfill({
        status: 413,
        contentType: "application/json",
        body: JSON.stringify({
          error: { code: "too_large", message: "A file may be at most 10 MiB." },
        }),
      });
    });
    await page.getByTestId("attach-input").setInputFiles({
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("hello"),
    });
    await upload.filter({ hasText: "A file may be at most 10 MiB." }).waitFor();
    // Send while it has failed: once retried, it goes by itself, with the caption.
    await page.getByTestId("composer").fill("my notes");
    await page.getByTestId("send").click();
    await upload.getByRole("button", { name: "Retry" }).click();
    await page.getByTestId("file-attachment").getByTestId("file-name")
      .filter({ hasText: "notes.txt" }).waitFor();
    await page.getByTestId("message-body").filter({ hasText: "my notes" }).waitFor();
    await upload.waitFor({ state: "detached" });
    await page.getByTestId("message-status").filter({ hasText: "Sent" }).waitFor();
    assertEquals(alice.errors.filter((e) => !/413/.test(e)), []);
  },
);
