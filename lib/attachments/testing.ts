/**
 * Real image bytes for the tests (never imported by server code), made by a real encoder
 * (imagescript): a gradient of the given size in every type Parley recognises.
 * @module
 */
import { Frame, GIF, Image } from "imagescript";

export async function sampleImages(width: number, height: number, alpha = false) {
  const img = new Image(width, height);
  for (let y = 1; y <= height; y++) {
    for (let x = 1; x <= width; x++) {
      img.setPixelAt(x, y, Image.rgbaToColor(x % 256, y % 256, 90, alpha && x < 4 ? 0 : 255));
    }
  }
  return {
    png: await img.encode(1),
    jpeg: await img.encodeJPEG(85),
    webp: await img.encodeWEBP(90),
    webpLossless: await img.encodeWEBP(100),
    gif: await new GIF([Frame.from(img)]).encode(),
  };
}
