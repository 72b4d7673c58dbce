/**
 * Finds what an upload really is from its bytes, never from its name or declared type: only a
 * complete PNG, JPEG, GIF or WebP with a readable size counts as an image. Everything else,
 * SVG included (it can carry script), is a file. Pure and browser compatible; it never throws
 * on any input, since the bytes are whatever a client sent.
 * @module
 */

/** The image types Parley shows inline. */
export type ImageType = "image/png" | "image/jpeg" | "image/gif" | "image/webp";

export interface SniffedImage {
  type: ImageType;
  width: number;
  height: number;
}

/** The first bytes `sniffImage` needs to tell an image candidate from anything else. */
export const SIGNATURE_BYTES = 16;

/**
 * Whether the first bytes carry an image signature. Cheap: used while streaming an upload to
 * decide whether to keep a copy of its bytes for the full check and the preview.
 */
export function looksLikeImage(head: Uint8Array): boolean {
  return signature(head) !== null;
}

function signature(b: Uint8Array): ImageType | null {
  if (
    b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 &&
    b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a
  ) return "image/png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (ascii(b, 0, 6) === "GIF87a" || ascii(b, 0, 6) === "GIF89a") {
    return "image/gif";
  }
  if (b.length >= 12 && ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP") {
    return "image/webp";
  }
  return null;
}

function ascii(b: Uint8Array, at: number, n: number): string {
  if (at + n > b.length) return "";
  let s = "";
  for (let i = at; i < at + n; i++) s += String.fromCharCode(b[i]);
  return s;
}

const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u24le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Uint8Array, i: number) =>
  ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
const u32le = (b: Uint8Array, i: number) =>
  ((b[i + 3] << 24) >>> 0) + ((b[i + 2] << 16) | (b[i + 1] << 8) | b[i]);

/**
 * The image the whole of `bytes` is, with its width and height, or null when it is not a
 * complete image of a supported type (a truncated or malformed one included).
 * @example
 * sniffImage(await Deno.readFile("cat.png")); // {type: "image/png", width: 640, height: 480}
 */
export function sniffImage(bytes: Uint8Array): SniffedImage | null {
  try {
    const found = (() => {
      switch (signature(bytes)) {
        case "image/png":
          return png(bytes);
        case "image/jpeg":
          return jpeg(bytes);
        case "image/gif":
          return gif(bytes);
        case "image/webp":
          return webp(bytes);
        default:
          return null;
      }
    })();
    return found && found.width > 0 && found.height > 0 ? found : null;
  } catch {
    return null;
  }
}

/** PNG: IHDR first, then every chunk must fit, up to IEND. */
function png(b: Uint8Array): SniffedImage | null {
  let at = 8;
  let size: { width: number; height: number } | null = null;
  while (at + 12 <= b.length) {
    const len = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    const end = at + 12 + len;
    if (end > b.length) return null;
    if (size === null) {
      if (type !== "IHDR" || len !== 13) return null;
      size = { width: u32be(b, at + 8), height: u32be(b, at + 12) };
    }
    if (type === "IEND") return { type: "image/png", ...size };
    at = end;
  }
  return null;
}

/** JPEG: markers up to the start of scan, a frame header for the size, and an end marker. */
function jpeg(b: Uint8Array): SniffedImage | null {
  let at = 2;
  let size: { width: number; height: number } | null = null;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const len = u16be(b, at + 2);
    if (len < 2 || at + 2 + len > b.length) return null;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
      marker !== 0xcc;
    if (isFrame) {
      if (len < 7) return null;
      size = { height: u16be(b, at + 5), width: u16be(b, at + 7) };
    }
    if (marker === 0xda) {
      if (!size) return null;
      // The entropy-coded data cannot contain 0xFF 0xD9 (0xFF is stuffed), so an end marker
      // after the scan header means the data is all there.
      for (let i = b.length - 2; i >= at + 2 + len; i--) {
        if (b[i] === 0xff && b[i + 1] === 0xd9) return { type: "image/jpeg", ...size };
      }
      return null;
    }
    if (marker === 0xd9) return null;
    at += 2 + len;
  }
  return null;
}

/** GIF: the logical screen size, and the trailer byte at the end. */
function gif(b: Uint8Array): SniffedImage | null {
  if (b.length < 14) return null;
  let end = b.length - 1;
  while (end > 13 && b[end] === 0) end--; // some encoders pad after the trailer
  if (b[end] !== 0x3b) return null;
  return { type: "image/gif", width: u16le(b, 6), height: u16le(b, 8) };
}

/** WebP: a RIFF container whose declared size is all present, and a VP8, VP8L or VP8X chunk. */
function webp(b: Uint8Array): SniffedImage | null {
  if (b.length < 30) return null;
  const riffEnd = 8 + u32le(b, 4);
  if (riffEnd > b.length || riffEnd < 30) return null;
  const chunk = ascii(b, 12, 4);
  const chunkLen = u32le(b, 16);
  const d = 20;
  if (d + chunkLen > riffEnd) return null;
  if (chunk === "VP8 ") {
    if (chunkLen < 10 || b[d + 3] !== 0x9d || b[d + 4] !== 0x01 || b[d + 5] !== 0x2a) return null;
    return {
      type: "image/webp",
      width: u16le(b, d + 6) & 0x3fff,
      height: u16le(b, d + 8) & 0x3fff,
    };
  }
  if (chunk === "VP8L") {
    if (chunkLen < 5 || b[d] !== 0x2f) return null;
    const bits = u32le(b, d + 1);
    return {
      type: "image/webp",
      width: (bits & 0x3fff) + 1,
      height: ((bits >>> 14) & 0x3fff) + 1,
    };
  }
  if (chunk === "VP8X") {
    if (chunkLen < 10) return null;
    return { type: "image/webp", width: u24le(b, d + 4) + 1, height: u24le(b, d + 7) + 1 };
  }
  return null;
}
