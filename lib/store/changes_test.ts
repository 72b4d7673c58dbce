import { deepStrictEqual as eq, equal, rejects } from "node:assert/strict";
import { AppError } from "../errors.ts";
import { type ChangeOp, commitChange, listReactions } from "./changes.ts";
import { KvBlobStore } from "./blobs.ts";
import { createGroup } from "./conversations.ts";
import { getHead } from "./messages.ts";
import { messagesByVersion } from "./stream.ts";
import { commitMessages } from "./commit.ts";
import { withKv } from "./testing.ts";

const anyone = () => {};

async function setup(kv: Deno.Kv, others: string[]) {
  const conv = await createGroup(kv, "ann", "Team", others);
  const { stored } = await commitMessages(kv, conv.id, [
    { id: "m", senderId: "ann", kind: "text", body: "hello" },
  ]);
  const change = (who: string, id: string, op: ChangeOp) =>
    commitChange(kv, new KvBlobStore(kv), conv.id, who, id, stored[0].seq, op, anyone);
  return { convId: conv.id, seq: stored[0].seq, change };
}

Deno.test("a reaction summary shows the first 50 ids and takes the next when one of them goes", async () => {
  await withKv(async (kv) => {
    const users = Array.from({ length: 52 }, (_, i) => `u${String(i).padStart(2, "0")}`);
    const { convId, seq, change } = await setup(kv, users);
    for (const u of users) await change(u, `r-${u}`, { op: "react", emoji: "👍", on: true });
    const res = await change("ann", "r-ann", { op: "react", emoji: "👍", on: true });
    equal(res.kind, "stored");
    const shown = res.kind === "stored" ? res.message.reactions[0] : null;
    eq([shown?.count, shown?.userIds.length], [53, 50]);
    const off = await change("u00", "off", { op: "react", emoji: "👍", on: false });
    const after = off.kind === "stored" ? off.message.reactions[0] : null;
    eq([after?.count, after?.userIds.length], [52, 50], "one beyond the first 50 moves up");
    equal(after?.userIds.includes("u00"), false);
    const all = await listReactions(kv, convId, seq);
    eq(all[0].userIds.length, 52);
  });
});

Deno.test("a change that changes nothing takes no seq; an id reused for another change conflicts", async () => {
  await withKv(async (kv) => {
    const { convId, change } = await setup(kv, ["bea"]);
    const head = (await getHead(kv, convId)).value!.seq;
    const same = await change("ann", "e1", { op: "edit", body: "hello", mentions: [] });
    equal(same.kind, "noop");
    equal((await getHead(kv, convId)).value!.seq, head);
    const off = await change("bea", "r0", { op: "react", emoji: "🎉", on: false });
    equal(off.kind, "noop", "taking back a reaction one never made");
    const edit = await change("ann", "e2", { op: "edit", body: "hi", mentions: [] });
    equal(edit.kind, "stored");
    equal((await change("ann", "e2", { op: "edit", body: "hi", mentions: [] })).kind, "existing");
    await rejects(
      change("ann", "e2", { op: "delete" }),
      (e) => e instanceof AppError && e.code === "conflict",
    );
    await rejects(
      change("bea", "e2", { op: "edit", body: "hi", mentions: [] }),
      (e) => e instanceof AppError && e.code === "conflict",
    );
    // The version index holds the message once, under its latest version.
    const page = await messagesByVersion(kv, convId, 0, 10);
    eq(page.messages.map((m) => [m.seq, m.version]), [[1, 1], [2, head + 1]]);
  });
});
