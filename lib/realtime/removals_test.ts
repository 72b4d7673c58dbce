import { equal } from "node:assert/strict";
import { RecentRemovals } from "./removals.ts";

Deno.test("a removal holds for reads that started at or before it, until the user is added back", () => {
  const r = new RecentRemovals();
  const t = 1_000_000;
  r.note("ann", "c1", t);
  equal(r.since("ann", "c1", t - 5), true, "a membership list read before the removal");
  equal(r.since("ann", "c1", t + 5), false, "a list read after it is right already");
  equal(r.since("ann", "c2", t - 5), false);
  r.clear("ann", "c1");
  equal(r.since("ann", "c1", t - 5), false);
});

Deno.test("removals older than a minute are forgotten as new ones come", () => {
  const r = new RecentRemovals();
  const t = 1_000_000;
  r.note("ann", "c1", t);
  r.note("bea", "c1", t + 61_000);
  equal(r.since("ann", "c1", 0), false);
  equal(r.since("bea", "c1", 0), true);
});
