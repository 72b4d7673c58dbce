import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { linkify } from "./format.ts";

const hrefs = (s: string) => linkify(s).flatMap((p) => (p.href ? [p.href] : []));

Deno.test("linkify leaves a sentence's closing paren and punctuation out of the link", () => {
  assertEquals(
    hrefs("See (https://en.wikipedia.org/wiki/Ada_(programming_language))."),
    ["https://en.wikipedia.org/wiki/Ada_(programming_language)"],
  );
  assertEquals(hrefs("(see https://example.com/a)"), ["https://example.com/a"]);
  assertEquals(hrefs("https://example.com/x_(y), then"), ["https://example.com/x_(y)"]);
  assertEquals(hrefs("Go to https://example.com/menu?"), ["https://example.com/menu"]);
  assertEquals(linkify("(https://example.com/a)").map((p) => p.text), [
    "(",
    "https://example.com/a",
    ")",
  ]);
});
