import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { commitChange } from "./changes.ts";
import { KvBlobStore } from "./blobs.ts";
import { commitMessages } from "./commit.ts";
import { createGroup } from "./conversations.ts";
import { keys } from "./keys.ts";
import { messagesByVersion, streamBetween } from "./stream.ts";
import { withKv } from "./testing.ts";

/** A group with messages 2..6 ("m1".."m5": seq 1 is the group's "created" system message),
 * then an edit of m2 (position 7) and of m4 (position 8), then m6 (seq 9). */
async function story(kv: Deno.Kv) {
  const conv = await createGroup(kv, "ann", "Team", ["bea"]);
  const send = (id: string) =>
    commitMessages(kv, conv.id, [{ id, senderId: "ann", kind: "text", body: id }]);
  for (const id of ["m1", "m2", "m3", "m4", "m5"]) await send(id);
  const edit = (id: string, seq: number) =>
    commitChange(kv, new KvBlobStore(kv), conv.id, "ann", id, seq, {
      op: "edit",
      body: `${id} edited`,
      mentions: [],
    }, () => {});
  await edit("e2", 3);
  await edit("e4", 5);
  await send("m6");
  return conv.id;
}

/** Every page of a sync from `after`, `limit` at a time: [seq, version, body] in order. */
async function syncAll(kv: Deno.Kv, convId: string, after: number, limit: number) {
  const seen: [number, number, string][] = [];
  for (let pages = 0; pages < 50; pages++) {
    const page = await messagesByVersion(kv, convId, after, limit);
    for (const m of page.messages) seen.push([m.seq, m.version, m.body]);
    if (!page.hasMore) return seen;
    after = page.messages.at(-1)!.version;
  }
  throw new Error("sync never ended");
}

const EXPECTED: [number, number, string][] = [
  [1, 1, ""],
  [2, 2, "m1"],
  [4, 4, "m3"],
  [6, 6, "m5"],
  [3, 7, "e2 edited"],
  [5, 8, "e4 edited"],
  [9, 9, "m6"],
];

Deno.test("a new message writes no version entry; only a change does", async () => {
  await withKv(async (kv) => {
    const convId = await story(kv);
    const entries = await Array.fromAsync(kv.list({ prefix: keys.versionsOf(convId) }));
    eq(entries.map((e) => e.key[2]), [7, 8]);
  });
});

Deno.test("sync returns each message once, at its latest version, whatever the page size", async () => {
  await withKv(async (kv) => {
    const convId = await story(kv);
    for (const limit of [1, 2, 3, 100]) {
      eq(await syncAll(kv, convId, 0, limit), EXPECTED, `pages of ${limit}`);
    }
    // From a client that had everything up to position 5: m2's edit, m5, m4's edit, m6.
    eq((await syncAll(kv, convId, 5, 2)).map(([seq]) => seq), [6, 3, 5, 9]);
    eq(await messagesByVersion(kv, convId, 9, 10), { messages: [], hasMore: false });
  });
});

Deno.test("the stream between two positions delivers each position once, superseded ones empty", async () => {
  await withKv(async (kv) => {
    const convId = await story(kv);
    const items = await streamBetween(kv, convId, 1, 9);
    eq(
      items.map((i) => [i.seq, i.message?.seq ?? null, i.changeId ?? null]),
      [
        [2, 2, null],
        [3, null, null], // m2, edited at 7
        [4, 4, null],
        [5, null, null], // m4, edited at 8
        [6, 6, null],
        [7, 3, "e2"],
        [8, 5, "e4"],
        [9, 9, null],
      ],
    );
    equal(items[5].message?.body, "e2 edited");
  });
});

Deno.test("a store from before schema 4 (an entry per unchanged message too) reads the same", async () => {
  await withKv(async (kv) => {
    const convId = await story(kv);
    for (const seq of [1, 2, 4, 6, 9]) await kv.set(keys.version(convId, seq), seq);
    eq(await syncAll(kv, convId, 0, 2), EXPECTED);
    eq((await streamBetween(kv, convId, 0, 9)).map((i) => i.message?.seq ?? null), [
      1,
      2,
      null,
      4,
      null,
      6,
      3,
      5,
      9,
    ]);
  });
});
