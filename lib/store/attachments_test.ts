import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { withKv } from "./testing.ts";
import { chargeQuota, getQuota } from "./attachments.ts";

const H = 3600_000;

async function charge(kv: Deno.Kv, bytes: number, now: number, limit = 1000) {
  const op = kv.atomic();
  const res = await chargeQuota(kv, op, "u1", bytes, limit, 24 * H, now);
  if (res.ok) equal((await op.commit()).ok, true);
  return res;
}

async function count(kv: Deno.Kv, prefix: string) {
  let n = 0;
  for await (const _ of kv.list({ prefix: [prefix] })) n++;
  return n;
}

Deno.test("the quota counts bytes in a window from the first upload, and refuses past the limit", async () => {
  await withKv(async (kv) => {
    const t0 = 1_000_000;
    eq(await charge(kv, 600, t0), { ok: true });
    eq(await charge(kv, 300, t0 + H), { ok: true });
    eq(await charge(kv, 200, t0 + 2 * H), { ok: false, retryAfterMs: 22 * H });
    eq((await getQuota(kv, "u1", t0 + 2 * H, 24 * H)).used, 900);
    // The window ends 24 h after its first upload: a new one begins, the old counter goes.
    eq(await charge(kv, 200, t0 + 24 * H), { ok: true });
    const q = await getQuota(kv, "u1", t0 + 24 * H, 24 * H);
    eq([q.start, q.used], [t0 + 24 * H, 200]);
    equal(await count(kv, "upload_used"), 1);
  });
});

Deno.test("parallel charges of one user all commit (no check on the counter)", async () => {
  await withKv(async (kv) => {
    const t0 = 5_000_000;
    await charge(kv, 1, t0);
    const ops = await Promise.all(Array.from({ length: 20 }, async () => {
      const op = kv.atomic();
      const res = await chargeQuota(kv, op, "u1", 10, 10_000, 24 * H, t0 + 1);
      return { op, res };
    }));
    const results = await Promise.all(ops.map(({ op }) => op.commit()));
    eq(results.map((r) => r.ok), Array(20).fill(true));
    equal((await getQuota(kv, "u1", t0 + 2, 24 * H)).used, 201);
  });
});
