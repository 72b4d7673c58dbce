import { deepStrictEqual as eq } from "node:assert/strict";
import { withKv } from "./testing.ts";
import { KeyWatcher } from "./watch.ts";

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

Deno.test("KeyWatcher reports changes of watched keys, beyond one watch call's 10 keys", async () => {
  await withKv(async (kv) => {
    const seen = new Map<string, number | null>();
    const w = new KeyWatcher<number>(kv, (id) => ["k", id], (id, v) => seen.set(id, v));
    const ids = Array.from({ length: 25 }, (_, i) => `id${i}`);
    for (const id of ids) w.add(id);
    await until(() => seen.size === 25); // each stream reports its keys' current values first
    for (const id of ids) await kv.set(["k", id], Number(id.slice(2)));
    await until(() => ids.every((id) => seen.get(id) !== null));
    eq(ids.map((id) => seen.get(id)), ids.map((_, i) => i));
    w.close();
  });
});

Deno.test("KeyWatcher stops reporting a removed key", async () => {
  await withKv(async (kv) => {
    const seen: string[] = [];
    const w = new KeyWatcher<number>(kv, (id) => ["k", id], (id, v) => {
      if (v !== null) seen.push(`${id}=${v}`);
    });
    w.add("a");
    w.add("b");
    await kv.set(["k", "a"], 1);
    await until(() => seen.includes("a=1"));
    w.remove("a");
    await new Promise((r) => setTimeout(r, 100)); // the watch is rebuilt without it
    await kv.set(["k", "a"], 2);
    await kv.set(["k", "b"], 3);
    await until(() => seen.includes("b=3"));
    await new Promise((r) => setTimeout(r, 50));
    eq(seen.filter((s) => s.startsWith("a")), ["a=1"]);
    w.close();
  });
});
