/**
 * The settings page's one enhancement: a picture chosen for the avatar is cropped to a centred
 * square (and scaled to at most 512 px) in the browser, then uploaded with `PUT /api/me/avatar`.
 * Without this script the same form posts the file as it is and the server stores it
 * downscaled; with it, what is stored is what the person saw as their square.
 * @module
 */

import { ApiError, putAvatar } from "./api.ts";

/** The side of the square sent to the server (it stores at most 256 px; 512 keeps it sharp). */
const SIDE = 512;

/** Crops an image file to its centred square, as a PNG or JPEG blob. */
async function cropSquare(file: File): Promise<Blob> {
  const bitmap = await createImageBitmap(file);
  const side = Math.min(bitmap.width, bitmap.height);
  const out = Math.min(side, SIDE);
  const canvas = document.createElement("canvas");
  canvas.width = out;
  canvas.height = out;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no canvas");
  ctx.drawImage(
    bitmap,
    (bitmap.width - side) / 2,
    (bitmap.height - side) / 2,
    side,
    side,
    0,
    0,
    out,
    out,
  );
  bitmap.close();
  const type = file.type === "image/png" ? "image/png" : "image/jpeg";
  return await new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode failed"))), type, 0.9)
  );
}

function enhance(form: HTMLFormElement): void {
  form.addEventListener("submit", async (event) => {
    const input = form.querySelector<HTMLInputElement>("input[type=file]");
    const file = input?.files?.[0];
    if (!file) return;
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const square = await cropSquare(file).catch(() => file);
      await putAvatar(square);
      location.assign("/settings?done=avatar");
    } catch (err) {
      showError(
        form,
        err instanceof ApiError
          ? err.message
          : "The picture could not be saved. Check your connection and try again.",
      );
    } finally {
      if (button) button.disabled = false;
    }
  });
}

function showError(form: HTMLFormElement, text: string): void {
  let p = form.querySelector<HTMLParagraphElement>("[data-avatar-error]");
  if (!p) {
    p = document.createElement("p");
    p.dataset.avatarError = "";
    p.setAttribute("role", "alert");
    p.className = "mt-1 text-sm text-red-600";
    form.append(p);
  }
  p.textContent = text;
}

for (const form of document.querySelectorAll<HTMLFormElement>("form[data-avatar-form]")) {
  enhance(form);
}
