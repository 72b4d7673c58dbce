import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { forgetOnline, lookupPresence, markOffline, markOnline } from "./presence.ts";
import { withKv } from "./testing.ts";

Deno.test("a user is online while any isolate marks them, and gets a lastSeen when the last one goes", async () => {
  await withKv(async (kv) => {
    await markOnline(kv, "i1", ["ann"], 60_000);
    await markOnline(kv, "i2", ["ann"], 60_000);
    eq((await lookupPresence(kv, ["ann"])).get("ann"), { online: true, lastSeen: null });
    equal(await markOffline(kv, "i1", "ann"), null, "still online on the other isolate");
    const seen = await markOffline(kv, "i2", "ann");
    equal(typeof seen, "number");
    eq((await lookupPresence(kv, ["ann"])).get("ann"), { online: false, lastSeen: seen });
  });
});

Deno.test("a user never seen is offline with no lastSeen", async () => {
  await withKv(async (kv) => {
    eq((await lookupPresence(kv, ["ghost"])).get("ghost"), { online: false, lastSeen: null });
  });
});

Deno.test("forgetOnline() takes an isolate's users offline on shutdown, many at a time", async () => {
  await withKv(async (kv) => {
    const users = Array.from({ length: 450 }, (_, i) => `u${i}`);
    await markOnline(kv, "i1", users, 60_000);
    equal((await lookupPresence(kv, ["u449"])).get("u449")?.online, true);
    await forgetOnline(kv, "i1", users);
    const state = await lookupPresence(kv, ["u0", "u449"]);
    equal(state.get("u0")?.online, false);
    equal(typeof state.get("u449")?.lastSeen, "number");
  });
});
