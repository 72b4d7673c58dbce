import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Image } from "imagescript";
import { PREVIEW_MAX_SIDE, PreviewMaker } from "./preview.ts";
import { sniffImage } from "./sniff.ts";
import { sampleImages } from "./testing.ts";

Deno.test("PreviewMaker scales an image over 720 px to 720 on its longer side, keeping its aspect", async () => {
  const maker = new PreviewMaker();
  try {
    const s = await sampleImages(1000, 600);
    for (const bytes of [s.png, s.jpeg, s.gif, s.webp]) {
      const sniffed = sniffImage(bytes)!;
      const got = await maker.make(bytes, sniffed);
      assertEquals(got?.width, 1000);
      assertEquals(got?.height, 600);
      assertEquals([got?.preview?.width, got?.preview?.height], [PREVIEW_MAX_SIDE, 432]);
      const decoded = await Image.decode(got!.preview!.bytes);
      assertEquals([decoded.width, decoded.height], [720, 432]);
      assertEquals(got!.preview!.type, "image/jpeg");
    }
  } finally {
    maker.close();
  }
});

Deno.test("PreviewMaker keeps transparency (PNG preview) and needs no preview for small images", async () => {
  const maker = new PreviewMaker();
  try {
    const big = await sampleImages(500, 900, true);
    const got = await maker.make(big.png, sniffImage(big.png)!);
    assertEquals(got?.preview?.type, "image/png");
    assertEquals([got?.preview?.width, got?.preview?.height], [400, 720]);
    const small = await sampleImages(720, 300);
    const none = await maker.make(small.jpeg, sniffImage(small.jpeg)!);
    assertEquals(none, { width: 720, height: 300, preview: null });
  } finally {
    maker.close();
  }
});

Deno.test("PreviewMaker answers null for bytes that look complete but do not decode", async () => {
  const maker = new PreviewMaker();
  try {
    const s = await sampleImages(64, 64);
    const broken = s.png.slice();
    // Keep the chunk structure (so the sniffer passes) but corrupt the compressed pixel data.
    const idat = new TextDecoder("latin1").decode(broken).indexOf("IDAT");
    broken.fill(0x55, idat + 4, idat + 40);
    const sniffed = sniffImage(broken);
    assertEquals(sniffed?.type, "image/png");
    assertEquals(await maker.make(broken, sniffed!), null);
    // The worker is still fine afterwards.
    assertEquals((await maker.make(s.png, sniffImage(s.png)!))?.width, 64);
  } finally {
    maker.close();
  }
});

Deno.test("PreviewMaker in-process (where no Worker can start) makes the same previews", async () => {
  const maker = new PreviewMaker({ inProcess: true });
  try {
    const s = await sampleImages(900, 300);
    const got = await maker.make(s.webp, sniffImage(s.webp)!);
    assertEquals([got?.width, got?.preview?.width, got?.preview?.height], [900, 720, 240]);
    const cut = s.png.slice();
    cut.fill(0, 60, 200);
    const sniffed = sniffImage(cut);
    if (sniffed) assertEquals(await maker.make(cut, sniffed), null);
  } finally {
    maker.close();
  }
});
