import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { lastSeenWhen, linkify } from "./format.ts";

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

Deno.test("last seen reads as people say it: today at, yesterday at, a weekday, a date", () => {
  const now = Date.UTC(2026, 2, 12, 21, 0); // Thursday 12 March 2026, 21:00 UTC
  assertEquals(lastSeenWhen(Date.UTC(2026, 2, 12, 20, 9), false, now), "today at 8:09 PM");
  assertEquals(lastSeenWhen(Date.UTC(2026, 2, 11, 9, 30), false, now), "yesterday at 9:30 AM");
  assertEquals(lastSeenWhen(Date.UTC(2026, 2, 9, 12, 0), false, now), "on Monday");
  assertEquals(lastSeenWhen(Date.UTC(2025, 11, 24, 12, 0), false, now), "on Dec 24, 2025");
});
