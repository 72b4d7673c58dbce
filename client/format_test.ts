import { deepStrictEqual as eq, equal } from "node:assert/strict";
import {
  countOf,
  dayKey,
  dayLabel,
  fullWhen,
  initials,
  lastSeenWhen,
  linkify,
  shortWhen,
  timeOf,
} from "./format.ts";

// Before hydration (`local` false) everything is UTC in en-US, so these texts are exact.
const at = (d: number, h = 14, m = 5) => Date.UTC(2025, 2, d, h, m); // March 2025
const tue4 = at(4);

Deno.test("server-side dates are UTC: a day key, a time and a full timestamp", () => {
  equal(dayKey(tue4, false), "2025-03-04");
  equal(dayKey(Date.UTC(2025, 2, 4, 23, 59), false), "2025-03-04");
  equal(dayKey(Date.UTC(2025, 2, 5, 0, 0), false), "2025-03-05", "midnight UTC starts a day");
  equal(timeOf(tue4, false), "2:05 PM");
  equal(fullWhen(tue4, false), "Mar 4, 2025, 2:05 PM");
});

Deno.test("a date separator says Today, Yesterday, or the full date", () => {
  equal(dayLabel(tue4, false, at(4, 23)), "Today");
  equal(dayLabel(tue4, false, at(5, 0, 1)), "Yesterday");
  equal(dayLabel(tue4, false, at(6)), "Tuesday, March 4, 2025");
});

Deno.test("the conversation list's time: a time today, a weekday this week, else a date", () => {
  equal(shortWhen(tue4, false, at(4, 20)), "2:05 PM");
  equal(shortWhen(tue4, false, at(6)), "Tue");
  equal(shortWhen(tue4, false, at(9, 14, 4)), "Tue", "just under six days");
  equal(shortWhen(tue4, false, at(10, 14, 5)), "Mar 4");
});

Deno.test("the browser's own zone and language are used once hydrated", () => {
  // Whatever the zone, a local day key has the same shape and the local formats answer.
  equal(/^\d{4}-\d{2}-\d{2}$/.test(dayKey(tue4, true)), true);
  equal(dayLabel(Date.now(), true), "Today");
  equal(timeOf(tue4, true).length > 0, true);
});

Deno.test("linkify turns http(s) URLs into links and leaves the rest as text", () => {
  eq(linkify("see https://a.example/x?y=1 now"), [
    { text: "see " },
    { text: "https://a.example/x?y=1", href: "https://a.example/x?y=1" },
    { text: " now" },
  ]);
  eq(linkify("HTTP://A.example"), [{ text: "HTTP://A.example", href: "http://a.example/" }]);
  eq(linkify("two: http://a.example http://b.example").filter((p) => p.href).length, 2);
  eq(linkify("plain text"), [{ text: "plain text" }]);
  eq(linkify(""), []);
});

Deno.test("linkify makes no link of other schemes or of a bare scheme", () => {
  for (
    const body of ["javascript:alert(1)", "ftp://c.example/file", "https://", "data:text/html,x"]
  ) {
    eq(linkify(body), [{ text: body }], body);
  }
});

Deno.test("linkify leaves trailing punctuation to the sentence", () => {
  eq(linkify("Go to https://a.example/x."), [
    { text: "Go to " },
    { text: "https://a.example/x", href: "https://a.example/x" },
    { text: "." },
  ]);
  eq(linkify("https://a.example/x?!")[0].text, "https://a.example/x");
  eq(linkify("[https://a.example/x]")[1].text, "https://a.example/x");
});

Deno.test("linkify keeps a URL's own parentheses and leaves an enclosing one to the sentence", () => {
  eq(linkify("(https://a.example/x)"), [
    { text: "(" },
    { text: "https://a.example/x", href: "https://a.example/x" },
    { text: ")" },
  ]);
  eq(
    linkify("https://en.wikipedia.org/wiki/Foo_(bar)")[0].text,
    "https://en.wikipedia.org/wiki/Foo_(bar)",
  );
  eq(linkify("(see https://en.wikipedia.org/wiki/Foo_(bar))."), [
    { text: "(see " },
    {
      text: "https://en.wikipedia.org/wiki/Foo_(bar)",
      href: "https://en.wikipedia.org/wiki/Foo_(bar)",
    },
    { text: ")." },
  ]);
});

Deno.test("linkify never loses or reorders a character of the body", () => {
  for (
    const body of [
      "a https://x.example/(p)) b, http://y.example. c",
      "<https://z.example/q>\"'",
      "https://a.example/😀 tail",
    ]
  ) {
    equal(linkify(body).map((p) => p.text).join(""), body);
  }
});

Deno.test("initials take the first and last word, upper-cased; nothing gives ?", () => {
  equal(initials("Ada Lovelace"), "AL");
  equal(initials("  ada   king lovelace "), "AL");
  equal(initials("élodie"), "É");
  equal(initials("   "), "?");
  equal(initials(""), "?");
});

Deno.test("last seen reads as people say it: today at, yesterday at, a weekday, a date", () => {
  const now = Date.UTC(2026, 2, 12, 21, 0); // Thursday 12 March 2026, 21:00 UTC
  eq(lastSeenWhen(Date.UTC(2026, 2, 12, 20, 9), false, now), "today at 8:09 PM");
  eq(lastSeenWhen(Date.UTC(2026, 2, 11, 9, 30), false, now), "yesterday at 9:30 AM");
  eq(lastSeenWhen(Date.UTC(2026, 2, 9, 12, 0), false, now), "on Monday");
  eq(lastSeenWhen(Date.UTC(2025, 11, 24, 12, 0), false, now), "on Dec 24, 2025");
});

Deno.test("a count takes the noun's singular for one and the plural otherwise", () => {
  eq(countOf(1, "member", "members"), "1 member");
  eq(countOf(2, "member", "members"), "2 members");
  eq(countOf(0, "member", "members"), "0 members");
});
