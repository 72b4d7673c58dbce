/**
 * Decoding an image fully (the proof that it is one) and, when it is larger than the preview
 * size, scaling it down and encoding the preview. Synchronous WASM and JS work of up to
 * hundreds of milliseconds: `preview_worker.ts` runs it in a Worker, off the event loop; this
 * module is what that Worker runs, and what runs in-process where Workers are not available.
 * imagescript decodes PNG, JPEG and GIF and encodes; it cannot decode WebP, which
 * @jsquash/webp (libwebp in WASM) does.
 * @module
 */
import { decode, Image } from "imagescript";
import decodeWebp from "@jsquash/webp/decode.js";
import type { ImageType } from "./sniff.ts";

/** One job: the bytes of what sniffed as an image, and the size the sniffer read. */
export interface PreviewRequest {
  id: number;
  bytes: Uint8Array;
  type: ImageType;
  width: number;
  height: number;
  maxSide: number;
}

export type PreviewReply =
  | { id: number; ok: false }
  | {
    id: number;
    ok: true;
    width: number;
    height: number;
    /** Null when the image is already small enough to be its own preview. */
    preview:
      | { bytes: Uint8Array; type: "image/png" | "image/jpeg"; width: number; height: number }
      | null;
  };

async function toImage(req: PreviewRequest): Promise<Image> {
  if (req.type === "image/webp") {
    const data = await decodeWebp(req.bytes.slice().buffer);
    const img = new Image(data.width, data.height);
    img.bitmap.set(data.data);
    return img;
  }
  const decoded = await decode(req.bytes, true);
  if (decoded instanceof Image) return decoded;
  // A GIF decodes to its frames (only the first, as asked): the preview is that frame.
  const first = decoded[0];
  if (first instanceof Image) return first as unknown as Image;
  throw new Error("no frame decoded");
}

function hasAlpha(img: Image): boolean {
  const px = img.bitmap;
  for (let i = 3; i < px.length; i += 4) if (px[i] !== 255) return true;
  return false;
}

/** Answers one request; never throws (anything that does not decode is "not an image"). */
export async function makePreview(req: PreviewRequest): Promise<PreviewReply> {
  try {
    const img = await toImage(req);
    const { width, height } = img;
    if (width !== req.width || height !== req.height) return { id: req.id, ok: false };
    const longer = Math.max(width, height);
    if (longer <= req.maxSide) return { id: req.id, ok: true, width, height, preview: null };
    const scale = req.maxSide / longer;
    img.resize(
      Math.max(1, Math.round(width * scale)),
      Math.max(1, Math.round(height * scale)),
    );
    const alpha = hasAlpha(img);
    const bytes = alpha ? await img.encode(3) : await img.encodeJPEG(82);
    return {
      id: req.id,
      ok: true,
      width,
      height,
      preview: {
        bytes,
        type: alpha ? "image/png" : "image/jpeg",
        width: img.width,
        height: img.height,
      },
    };
  } catch {
    return { id: req.id, ok: false };
  }
}
