import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { createDirect } from "./conversations.ts";
import { eventsHead, readEvents } from "./events.ts";
import {
  advanceCursor,
  getHead,
  getIdem,
  headsAndCursors,
  listCursors,
  messagesAfter,
  messagesBefore,
  messagesBetween,
} from "./messages.ts";
import { commitGroups, commitMessages } from "./commit.ts";
import { withKv } from "./testing.ts";

const draft = (senderId: string, id: string, body = id) => ({
  id,
  senderId,
  kind: "text" as const,
  body,
});

/** A direct conversation of ann and bea with `n` messages from ann, m1..mn (a direct one
 * records no group changes, so its stream holds the messages alone). */
async function seeded(kv: Deno.Kv, n: number, first = "ann") {
  const { conversation: conv } = await createDirect(kv, first, "bea");
  if (n) {
    await commitMessages(
      kv,
      conv.id,
      Array.from({ length: n }, (_, i) => draft("ann", `m${i + 1}`)),
    );
  }
  return conv.id;
}

const seqs = (page: { messages: { seq: number }[] }) => page.messages.map((m) => m.seq);

Deno.test("commitMessages gives gapless seqs across batches and moves head and sender's cursor", async () => {
  await withKv(async (kv) => {
    const convId = await seeded(kv, 0);
    const a = await commitMessages(kv, convId, [draft("ann", "a"), draft("bea", "b")]);
    eq(a.stored.map((m) => [m.id, m.seq]), [["a", 1], ["b", 2]]);
    const b = await commitMessages(kv, convId, [draft("ann", "c")]);
    eq(b.stored.map((m) => m.seq), [3]);
    const head = await getHead(kv, convId);
    equal(head.value?.seq, 3);
    equal(head.value?.last?.id, "c");
    eq(await listCursors(kv, convId), new Map([["ann", 3], ["bea", 2]]));
  });
});

Deno.test("commitMessages stores a resent id never again and reports its first record", async () => {
  await withKv(async (kv) => {
    const convId = await seeded(kv, 0);
    const first = await commitMessages(kv, convId, [draft("ann", "x", "hello")]);
    const again = await commitMessages(kv, convId, [
      draft("ann", "x", "changed"),
      draft("ann", "y"),
    ]);
    eq(again.stored.map((m) => [m.id, m.seq]), [["y", 2]]);
    equal(again.existing.get("x")?.seq, 1);
    equal(again.existing.get("x")?.senderId, "ann");
    equal((await messagesAfter(kv, convId, 0, 10)).messages[0].body, "hello");
    eq([...(await getIdem(kv, convId, ["x", "y", "z"])).keys()], ["x", "y"]);
    equal(first.stored[0].ts, (await getIdem(kv, convId, ["x"])).get("x")?.ts);
  });
});

Deno.test("commitMessages with a stale known head retries and still takes the next seq", async () => {
  await withKv(async (kv) => {
    const convId = await seeded(kv, 0);
    const { head } = await commitMessages(kv, convId, [draft("ann", "a")]);
    await commitMessages(kv, convId, [draft("bea", "b")]); // another writer moves the head
    const late = await commitMessages(kv, convId, [draft("ann", "c")], head);
    eq(late.stored.map((m) => m.seq), [3], "no seq taken twice");
    eq(seqs(await messagesAfter(kv, convId, 0, 10)), [1, 2, 3]);
  });
});

Deno.test("concurrent commits to one conversation never share or skip a seq", async () => {
  await withKv(async (kv) => {
    const convId = await seeded(kv, 0);
    await Promise.all(
      Array.from({ length: 15 }, (_, i) => commitMessages(kv, convId, [draft("ann", `m${i}`)])),
    );
    eq(seqs(await messagesAfter(kv, convId, 0, 100)), Array.from({ length: 15 }, (_, i) => i + 1));
  });
});

Deno.test("commitGroups stores several conversations in one go, each under its own seqs", async () => {
  await withKv(async (kv) => {
    const a = await seeded(kv, 2);
    const b = await seeded(kv, 0, "cid");
    const [ra, rb] = await commitGroups(kv, [
      { convId: a, drafts: [draft("ann", "a3")] },
      { convId: b, drafts: [draft("bea", "b1"), draft("ann", "b2")] },
    ]);
    eq(ra.stored.map((m) => m.seq), [3]);
    eq(rb.stored.map((m) => m.seq), [1, 2]);
    equal(ra.head.value.seq, 3);
    equal(rb.head.value.seq, 2);
  });
});

Deno.test("a batch of only resends writes nothing and returns the head unchanged", async () => {
  await withKv(async (kv) => {
    const convId = await seeded(kv, 1);
    const before = await getHead(kv, convId);
    const res = await commitMessages(kv, convId, [draft("ann", "m1")]);
    eq(res.stored, []);
    equal(res.existing.get("m1")?.seq, 1);
    equal((await getHead(kv, convId)).versionstamp, before.versionstamp);
  });
});

Deno.test("messagesBefore pages backwards from the latest, ascending, with hasMore", async () => {
  await withKv(async (kv) => {
    const convId = await seeded(kv, 5);
    const latest = await messagesBefore(kv, convId, null, 2);
    eq(seqs(latest), [4, 5]);
    equal(latest.hasMore, true);
    const older = await messagesBefore(kv, convId, 4, 2);
    eq(seqs(older), [2, 3]);
    equal(older.hasMore, true);
    const oldest = await messagesBefore(kv, convId, 2, 2);
    eq(seqs(oldest), [1]);
    equal(oldest.hasMore, false);
    eq(await messagesBefore(kv, convId, 1, 10), { messages: [], hasMore: false });
    eq(await messagesBefore(kv, convId, 0, 10), { messages: [], hasMore: false });
    const all = await messagesBefore(kv, convId, null, 5);
    eq(seqs(all), [1, 2, 3, 4, 5]);
    equal(all.hasMore, false, "exactly a page is not 'more'");
  });
});

Deno.test("messagesAfter pages forwards with hasMore, empty past the head and at the integer edge", async () => {
  await withKv(async (kv) => {
    const convId = await seeded(kv, 5);
    const first = await messagesAfter(kv, convId, 0, 3);
    eq(seqs(first), [1, 2, 3]);
    equal(first.hasMore, true);
    const rest = await messagesAfter(kv, convId, 3, 3);
    eq(seqs(rest), [4, 5]);
    equal(rest.hasMore, false);
    eq(await messagesAfter(kv, convId, 5, 3), { messages: [], hasMore: false });
    eq(await messagesAfter(kv, convId, Number.MAX_SAFE_INTEGER, 3), {
      messages: [],
      hasMore: false,
    });
    eq(seqs(await messagesAfter(kv, "other", 0, 3)), [], "no other conversation's messages");
  });
});

Deno.test("messagesBetween returns after < seq <= upTo, empty for an empty range", async () => {
  await withKv(async (kv) => {
    const convId = await seeded(kv, 5);
    eq((await messagesBetween(kv, convId, 1, 3)).map((m) => m.seq), [2, 3]);
    eq(await messagesBetween(kv, convId, 3, 3), []);
    eq(await messagesBetween(kv, convId, 4, 2), []);
  });
});

Deno.test("advanceCursor moves forward only, clamps to the head and logs a receipt", async () => {
  await withKv(async (kv) => {
    const convId = await seeded(kv, 3);
    const before = await eventsHead(kv);
    const moved = await advanceCursor(kv, convId, "bea", 99, "conn-1");
    equal(moved?.seq, 3, "clamped to the head");
    eq((await readEvents(kv, before, moved!.eventSeq)).map((e) => e.event), [{
      type: "receipt",
      conversationId: convId,
      userId: "bea",
      seq: 3,
      connectionId: "conn-1",
    }]);
    equal(await advanceCursor(kv, convId, "bea", 2, null), null, "never backwards");
    equal(await advanceCursor(kv, convId, "bea", 3, null), null, "no receipt for no move");
    equal(await advanceCursor(kv, convId, "zed", 3, null), null, "a non-member has no cursor");
    equal(await eventsHead(kv), moved!.eventSeq);
  });
});

Deno.test("headsAndCursors answers in the order asked, null where nothing exists", async () => {
  await withKv(async (kv) => {
    const a = await seeded(kv, 2);
    const b = await seeded(kv, 0, "cid");
    await advanceCursor(kv, a, "bea", 1, null);
    const { heads, cursors } = await headsAndCursors(kv, [b, "missing", a], "bea");
    eq(heads.map((h) => h?.seq ?? null), [0, null, 2]);
    eq(cursors, [0, null, 1]);
  });
});
