import { deepStrictEqual, equal } from "node:assert/strict";
import { addBlock, blocks, forgetBlocks, listBlocked, removeBlock } from "./blocks.ts";
import { keys } from "./keys.ts";
import { withKv } from "./testing.ts";

Deno.test("a block is one way, listed in order, and lifted by removeBlock()", async () => {
  await withKv(async (kv) => {
    await addBlock(kv, "a", "b");
    await addBlock(kv, "a", "c");
    equal(await blocks(kv, "a", "b"), true);
    equal(await blocks(kv, "b", "a"), false);
    deepStrictEqual(await listBlocked(kv, "a"), ["b", "c"]);
    await removeBlock(kv, "a", "b");
    deepStrictEqual(await listBlocked(kv, "a"), ["c"]);
    equal((await kv.get(keys.blockedBy("b", "a"))).value, null, "the reverse entry goes too");
  });
});

Deno.test("forgetBlocks() removes every block a user made and every block naming them", async () => {
  await withKv(async (kv) => {
    await addBlock(kv, "gone", "x");
    await addBlock(kv, "y", "gone");
    await addBlock(kv, "y", "z");
    await forgetBlocks(kv, "gone");
    const left: Deno.KvKey[] = [];
    for await (const e of kv.list({ prefix: [] })) left.push(e.key);
    deepStrictEqual(left, [["blocked_by", "z", "y"], ["blocks", "y", "z"]]);
  });
});
