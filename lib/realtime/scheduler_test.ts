import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { FLUSH_GAP_MAX_MS, paceShare, type Writer, WriteScheduler } from "./scheduler.ts";

/** A scheduler on a clock, timer and CPU meter the test moves by hand. */
function manual() {
  const clock = { t: 0, cpu: 0, timers: [] as { fn: () => void; ms: number }[] };
  const scheduler = new WriteScheduler({
    now: () => clock.t,
    setTimer: (fn, ms) => clock.timers.push({ fn, ms }),
    cpuTime: () => clock.cpu,
  });
  /** Runs the one scheduled flush and says how long it was set to wait. */
  const fire = () => {
    equal(clock.timers.length, 1, "exactly one flush scheduled");
    const { fn, ms } = clock.timers.pop()!;
    fn();
    return ms;
  };
  return { clock, scheduler, fire };
}

/** A writer that has `frames` frames queued each time it is flushed. */
function writer(frames = 1): Writer & { writes: number } {
  return {
    writes: 0,
    flush() {
      this.writes++;
      return frames;
    },
  };
}

Deno.test("a quiet scheduler writes on the next turn, once per marked writer", () => {
  const { scheduler, fire } = manual();
  const a = writer();
  const b = writer();
  scheduler.mark(a);
  scheduler.mark(a);
  scheduler.mark(b);
  equal(scheduler.pending, 2);
  equal(fire(), 0, "no wait when nothing was written before");
  eq([a.writes, b.writes], [1, 1]);
  equal(scheduler.pending, 0);
  equal(scheduler.scheduled, false);
});

Deno.test("forget() leaves a writer out of the next flush", () => {
  const { scheduler, fire } = manual();
  const a = writer();
  const b = writer();
  scheduler.mark(a);
  scheduler.mark(b);
  scheduler.forget(a);
  fire();
  eq([a.writes, b.writes], [0, 1]);
});

Deno.test("after a wide flush on a busy CPU, the next flush waits the full gap", () => {
  const { clock, scheduler, fire } = manual();
  const many = Array.from({ length: 2000 }, () => writer());
  for (const w of many) scheduler.mark(w);
  // A core fully busy since the last sample.
  clock.t += 100;
  clock.cpu += 100;
  fire();
  scheduler.mark(writer());
  equal(fire(), FLUSH_GAP_MAX_MS, "2000 writes × 0.02 ms, capped at the maximum");
});

Deno.test("after a wide flush on an idle CPU with one frame per socket, the next flush does not wait", () => {
  const { clock, scheduler, fire } = manual();
  for (let i = 0; i < 2000; i++) scheduler.mark(writer(1));
  clock.t += 100; // CPU stays idle
  fire();
  scheduler.mark(writer());
  equal(fire(), 0);
});

Deno.test("paceShare waits only when waiting would save writes or the CPU is busy", () => {
  equal(paceShare(0.5, 0), 0, "less than one more frame expected: no wait");
  equal(paceShare(2, 0), 1, "two or more frames expected: the full gap");
  equal(paceShare(0, 0.6), 0);
  equal(paceShare(0, 0.9), 1);
  equal(paceShare(0, 0.75) > 0.4 && paceShare(0, 0.75) < 0.6, true, "half way between");
});

Deno.test("joined() gives one frame as it is, several as an array, and reuses the text for the same queue", () => {
  const { scheduler } = manual();
  equal(scheduler.joined(['{"a":1}']), '{"a":1}');
  const first = scheduler.joined(['{"a":1}', '{"b":2}']);
  equal(first, '[{"a":1},{"b":2}]');
  equal(scheduler.joined(['{"a":1}', '{"b":2}']), first);
  equal(scheduler.joined(['{"a":1}', '{"c":3}']), '[{"a":1},{"c":3}]');
});
