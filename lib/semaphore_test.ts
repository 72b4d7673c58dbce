import { deepStrictEqual as eq, equal, rejects } from "node:assert/strict";
import { Semaphore } from "./semaphore.ts";

Deno.test("Semaphore.run never lets more than `limit` run at once, and serves waiters in order", async () => {
  const sem = new Semaphore(2);
  let running = 0, peak = 0;
  const order: number[] = [];
  const gates = Array.from({ length: 6 }, () => Promise.withResolvers<void>());
  const runs = gates.map((g, i) =>
    sem.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await g.promise;
      running--;
      return i;
    })
  );
  await new Promise((r) => setTimeout(r, 0));
  eq([sem.active, sem.waiting, order], [2, 4, [0, 1]]);
  for (const g of gates) {
    g.resolve();
    await new Promise((r) => setTimeout(r, 0));
  }
  eq(await Promise.all(runs), [0, 1, 2, 3, 4, 5]);
  eq(order, [0, 1, 2, 3, 4, 5]);
  equal(peak, 2);
  eq([sem.active, sem.waiting], [0, 0]);
});

Deno.test("Semaphore.run gives the turn back when the work throws", async () => {
  const sem = new Semaphore(1);
  await rejects(sem.run(() => Promise.reject(new Error("boom"))), /boom/);
  equal(await sem.run(() => Promise.resolve("next")), "next");
  equal(sem.active, 0);
});
