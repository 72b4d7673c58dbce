import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { FastBus } from "./bus.ts";

/** Resolves once `ok()` holds, polling; fails after 2 s. */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A plain listener on the channel (not a bus: it never says hello), recording what passes. */
function tap(name: string) {
  const seen: unknown[] = [];
  const ch = new BroadcastChannel(name);
  ch.onmessage = (e) => seen.push(e.data);
  const events = () => seen.filter((d) => !(d && typeof d === "object" && "parley-bus" in d));
  return { seen, events, close: () => ch.close() };
}

Deno.test("a bus alone posts no events; with a second isolate's bus it does, until that one leaves", async () => {
  const name = `bus-test-${crypto.randomUUID()}`;
  const wire = tap(name);
  const gotB: string[] = [];
  const a = new FastBus<string>(name, true, () => {});
  try {
    await until(() => wire.seen.length >= 1, "a's hello");
    a.post("alone");
    equal(a.peers, 0);

    const b = new FastBus<string>(name, true, (e) => gotB.push(e));
    await until(() => a.peers === 1, "a to hear b");
    a.post("together");
    await until(() => gotB.length === 1, "b to get the event");
    eq(gotB, ["together"]);

    b.close();
    await until(() => a.peers === 0, "b's bye");
    a.post("alone again");
    await new Promise((r) => setTimeout(r, 50));
    eq(wire.events(), ["together"], "only the event posted while b listened went out");
  } finally {
    a.close();
    wire.close();
  }
});
