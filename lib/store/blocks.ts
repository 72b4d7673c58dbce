/**
 * Who blocks whom. Each block is written in both directions in one commit: forwards, so a
 * check ("has B blocked A?") is one read and a user's list is one range; backwards, so that
 * deleting an account finds every block naming it without scanning everyone's lists.
 * @module
 */
import { keys } from "./keys.ts";
import { retry } from "./kv.ts";

/** Blocks `blockedId` for `blockerId`; a no-op when already blocked. */
export async function addBlock(kv: Deno.Kv, blockerId: string, blockedId: string): Promise<void> {
  const at = Date.now();
  await retry(() =>
    kv.atomic()
      .set(keys.block(blockerId, blockedId), { at })
      .set(keys.blockedBy(blockedId, blockerId), { at })
      .commit()
  );
}

/** Lifts a block; a no-op when there is none. */
export async function removeBlock(
  kv: Deno.Kv,
  blockerId: string,
  blockedId: string,
): Promise<void> {
  await retry(() =>
    kv.atomic()
      .delete(keys.block(blockerId, blockedId))
      .delete(keys.blockedBy(blockedId, blockerId))
      .commit()
  );
}

/** Whether `blockerId` blocks `otherId`. */
export async function blocks(kv: Deno.Kv, blockerId: string, otherId: string): Promise<boolean> {
  return (await retry(() => kv.get(keys.block(blockerId, otherId)))).value !== null;
}

/** The ids `blockerId` blocks, oldest block first. */
export async function listBlocked(kv: Deno.Kv, blockerId: string): Promise<string[]> {
  const out: { id: string; at: number }[] = [];
  for await (const e of kv.list<{ at: number }>({ prefix: keys.blocksOf(blockerId) })) {
    out.push({ id: e.key[2] as string, at: e.value.at });
  }
  return out.sort((a, b) => a.at - b.at).map((b) => b.id);
}

/**
 * Deletes every block a user made and every block naming them (an account being deleted).
 */
export async function forgetBlocks(kv: Deno.Kv, userId: string): Promise<void> {
  const ops: Deno.KvKey[][] = [];
  for await (const e of kv.list({ prefix: keys.blocksOf(userId) })) {
    ops.push([e.key, keys.blockedBy(e.key[2] as string, userId)]);
  }
  for await (const e of kv.list({ prefix: keys.blockedByOf(userId) })) {
    ops.push([e.key, keys.block(e.key[2] as string, userId)]);
  }
  for (let i = 0; i < ops.length; i += 200) {
    const op = kv.atomic();
    for (const pair of ops.slice(i, i + 200)) for (const k of pair) op.delete(k);
    await retry(() => op.commit());
  }
}

/**
 * Of `userIds`, those who block `viewerId`: whose presence the viewer must not see. Read in
 * batches of ten keys (KV's `getMany` limit).
 */
export async function blockersAmong(
  kv: Deno.Kv,
  viewerId: string,
  userIds: string[],
): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < userIds.length; i += 10) {
    const batch = userIds.slice(i, i + 10);
    const entries = await retry(() => kv.getMany(batch.map((u) => keys.block(u, viewerId))));
    entries.forEach((e, j) => {
      if (e.value !== null) out.add(batch[j]);
    });
  }
  return out;
}
