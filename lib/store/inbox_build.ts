/**
 * Building the conversation list's index (lib/store/inbox.ts) from what is stored: once at the
 * first start on a store from before the index, and after a restore, whose heads were raised
 * without moving entries. The index is otherwise kept by the commits that change it.
 * @module
 */
import { indexedPerMember } from "./inbox.ts";
import { keys } from "./keys.ts";
import { listAll, retry } from "./kv.ts";
import type { ConversationRecord, Head } from "./records.ts";

/** Big-group entries written per commit when (re)building. */
const ENTRIES_PER_COMMIT = 500;

/**
 * Builds the list index of one conversation from its members and head: per-member entries and
 * the head's list of members when small, big-group entries when large. Checks the head and the
 * conversation record, so a membership change in between makes it read again. Entries at other
 * times (left in a store a restore wrote into) are not looked for.
 */
export async function indexConversation(kv: Deno.Kv, convId: string): Promise<void> {
  for (;;) {
    const [conv, head] = await retry(() =>
      kv.getMany<[ConversationRecord, Head]>([keys.conversation(convId), keys.head(convId)])
    );
    if (!conv.value || !head.value) return;
    const memberIds = (await listAll(kv, { prefix: keys.membersOf(convId) }))
      .map((e) => e.key[2] as string);
    const small = indexedPerMember(memberIds.length);
    if (!small) {
      for (let i = 0; i < memberIds.length; i += ENTRIES_PER_COMMIT) {
        const op = kv.atomic();
        for (const id of memberIds.slice(i, i + ENTRIES_PER_COMMIT)) {
          op.set(keys.bigGroup(id, convId), true);
        }
        await retry(() => op.commit());
      }
    }
    let op = kv.atomic().check(conv).check(head);
    const { inbox: _, ...rest } = head.value;
    if (small) {
      for (const id of memberIds) op = op.set(keys.inbox(id, head.value.ts, convId), true);
    }
    op = op.set(keys.head(convId), small ? { ...rest, inbox: memberIds } : rest);
    if ((await retry(() => op.commit())).ok) return;
  }
}

/**
 * Builds the list index of every conversation: once, at start, for a store from before the
 * index (then marked built), and after a restore (`force`), whose heads were raised without
 * moving entries.
 * @returns how many conversations were indexed.
 */
export async function buildListIndex(kv: Deno.Kv, force = false): Promise<number> {
  if (!force && (await retry(() => kv.get(keys.listIndexBuilt()))).value) return 0;
  let built = 0;
  for await (
    const e of kv.list<ConversationRecord>({ prefix: keys.conversationsPrefix() })
  ) {
    await indexConversation(kv, e.key[1] as string);
    built++;
  }
  await retry(() => kv.set(keys.listIndexBuilt(), true));
  return built;
}
