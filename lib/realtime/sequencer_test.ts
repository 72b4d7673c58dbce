import { deepStrictEqual as eq } from "node:assert/strict";
import { Sequencer } from "./sequencer.ts";

type Item = { seq: number; body: string };
const store: Item[] = Array.from({ length: 20 }, (_, i) => ({ seq: i + 1, body: `m${i + 1}` }));
const between = (after: number, upTo: number) =>
  Promise.resolve(store.filter((m) => m.seq > after && m.seq <= upTo));
const settle = () => new Promise((r) => setTimeout(r, 10));

Deno.test("sequencer delivers items offered out of order exactly once, in order", async () => {
  const got: number[] = [];
  const s = new Sequencer<Item>(between, (m) => got.push(m.seq));
  s.start(0);
  for (const seq of [1, 3, 2, 2, 1, 4]) s.offer(store[seq - 1]);
  await settle();
  eq(got, [1, 2, 3, 4]);
});

Deno.test("sequencer fills a gap from the store when a later item arrives first", async () => {
  const got: number[] = [];
  const reads: [number, number][] = [];
  const s = new Sequencer<Item>((a, b) => {
    reads.push([a, b]);
    return between(a, b);
  }, (m) => got.push(m.seq));
  s.start(5);
  s.offer(store[9]); // seq 10 while 6..9 were lost on the fast path
  await settle();
  eq(got, [6, 7, 8, 9, 10]);
  eq(reads, [[5, 10]]);
  s.offer(store[7]); // a late duplicate is dropped
  await settle();
  eq(got, [6, 7, 8, 9, 10]);
});

Deno.test("sequencer catches up from a head hint alone (the fast path lost everything)", async () => {
  const got: number[] = [];
  const s = new Sequencer<Item>(between, (m) => got.push(m.seq));
  s.start(0);
  s.hint(3);
  await settle();
  s.hint(3);
  s.hint(5);
  await settle();
  eq(got, [1, 2, 3, 4, 5]);
});

Deno.test("sequencer holds items offered before its start and skips those at or below it", async () => {
  const got: number[] = [];
  const s = new Sequencer<Item>(between, (m) => got.push(m.seq));
  s.offer(store[1]);
  s.offer(store[2]);
  s.start(2);
  await settle();
  eq(got, [3]);
});
