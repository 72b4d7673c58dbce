import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { sampleImages } from "./testing.ts";
import { looksLikeImage, sniffImage } from "./sniff.ts";

Deno.test("sniffImage() reads type, width and height of real PNG, JPEG, GIF and WebP bytes", async () => {
  const s = await sampleImages(37, 21);
  assertEquals(sniffImage(s.png), { type: "image/png", width: 37, height: 21 });
  assertEquals(sniffImage(s.jpeg), { type: "image/jpeg", width: 37, height: 21 });
  assertEquals(sniffImage(s.gif), { type: "image/gif", width: 37, height: 21 });
  assertEquals(sniffImage(s.webp), { type: "image/webp", width: 37, height: 21 });
  assertEquals(sniffImage(s.webpLossless), { type: "image/webp", width: 37, height: 21 });
});

Deno.test("sniffImage() calls a truncated image of every type not an image, at every cut", async () => {
  const s = await sampleImages(40, 30);
  for (const [name, bytes] of Object.entries(s)) {
    for (const cut of [1, 2, 7, 8, 12, 30, Math.floor(bytes.length / 2), bytes.length - 1]) {
      if (cut >= bytes.length) continue;
      assertEquals(sniffImage(bytes.subarray(0, cut)), null, `${name} cut at ${cut}`);
    }
  }
});

Deno.test("sniffImage() never throws on random or hostile bytes", async () => {
  const s = await sampleImages(16, 16);
  for (const bytes of Object.values(s)) {
    for (let round = 0; round < 200; round++) {
      const copy = bytes.slice();
      for (let k = 0; k < 4; k++) {
        copy[12 + Math.floor(Math.random() * (copy.length - 12))] = Math.random() * 256;
      }
      const got = sniffImage(copy);
      if (got) assertEquals(got.width > 0 && got.height > 0, true);
    }
  }
  for (let n = 0; n < 64; n++) sniffImage(crypto.getRandomValues(new Uint8Array(n)));
});

Deno.test("sniffImage() says SVG, text and an empty body are not images", () => {
  const enc = new TextEncoder();
  const svg = enc.encode(
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
  );
  assertEquals(sniffImage(svg), null);
  assertEquals(looksLikeImage(svg), false);
  assertEquals(sniffImage(enc.encode("just some text, named x.png")), null);
  assertEquals(sniffImage(new Uint8Array(0)), null);
});

Deno.test("looksLikeImage() recognises each signature from the first bytes alone", async () => {
  const s = await sampleImages(8, 8);
  for (const bytes of Object.values(s)) assertEquals(looksLikeImage(bytes.subarray(0, 16)), true);
});
