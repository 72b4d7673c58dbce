/**
 * A send commit checks that its sender is (still) a member, in the same atomic commit as the
 * message: a member removed a moment ago, by this isolate or another, cannot slip a message in,
 * even when this isolate still remembers them as a member.
 */
import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { addBlock, removeBlock } from "./blocks.ts";
import { addMember, createDirect, createGroup, removeMember } from "./conversations.ts";
import { keys } from "./keys.ts";
import { messagesAfter } from "./messages.ts";
import { commitGroups, type GuardCache, type MemberCache } from "./commit.ts";
import { withKv } from "./testing.ts";

const draft = (senderId: string, body: string) => ({
  id: crypto.randomUUID(),
  senderId,
  kind: "text" as const,
  body,
});

Deno.test("a sender removed after their membership was cached gets their send refused, nothing stored", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "owner", "Team", ["ann", "bea"]);
    const members: MemberCache = new Map();
    const [first] = await commitGroups(
      kv,
      [{
        convId: conv.id,
        drafts: [draft("ann", "hello"), draft("bea", "hi")],
      }],
      new Map(),
      members,
    );
    eq(first.stored.map((m) => m.body), ["hello", "hi"]);
    eq(first.refused, []);

    // Ann is removed elsewhere; this commit still holds her old member entry.
    await removeMember(kv, conv.id, "ann");
    const [second] = await commitGroups(
      kv,
      [{
        convId: conv.id,
        drafts: [draft("ann", "still here?"), draft("bea", "bye ann")],
      }],
      new Map(),
      members,
    );
    eq(second.stored.map((m) => m.body), ["bye ann"]);
    eq(second.refused.map((d) => d.body), ["still here?"]);
    // created (1), hello, hi, ann's leaving (4): no seq is skipped for the refused draft.
    equal(second.stored[0].seq, 5, "no seq is skipped for the refused draft");

    const all = await messagesAfter(kv, conv.id, 0, 10);
    eq(all.messages.filter((m) => m.kind !== "system").map((m) => m.body), [
      "hello",
      "hi",
      "bye ann",
    ]);
    equal(
      (await kv.get(keys.cursor(conv.id, "ann"))).value,
      null,
      "no read cursor for a non-member",
    );
  });
});

Deno.test("a sender who was never a member is refused; one added back later is let in again", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "owner", "Team", ["ann"]);
    const members: MemberCache = new Map();
    const [stranger] = await commitGroups(
      kv,
      [{
        convId: conv.id,
        drafts: [draft("zed", "let me in")],
      }],
      new Map(),
      members,
    );
    eq(stranger.stored, []);
    eq(stranger.refused.map((d) => d.body), ["let me in"]);

    await removeMember(kv, conv.id, "ann");
    const [gone] = await commitGroups(
      kv,
      [{ convId: conv.id, drafts: [draft("ann", "x")] }],
      new Map(),
      members,
    );
    eq(gone.refused.length, 1);
    await addMember(kv, conv.id, "ann");
    const [back] = await commitGroups(
      kv,
      [{ convId: conv.id, drafts: [draft("ann", "back")] }],
      new Map(),
      members,
    );
    eq(back.stored.map((m) => m.body), ["back"]);
    eq(back.refused, []);
  });
});

Deno.test("a block that lands after the sender's send was cached refuses the next one in its commit; lifting it lets sends through", async () => {
  await withKv(async (kv) => {
    const { conversation: conv } = await createDirect(kv, "ann", "bob");
    const members: MemberCache = new Map();
    const guards: GuardCache = new Map();
    const send = async (body: string) =>
      (await commitGroups(
        kv,
        [{
          convId: conv.id,
          drafts: [{ ...draft("ann", body), absent: keys.block("bob", "ann") }],
        }],
        new Map(),
        members,
        guards,
      ))[0];
    eq((await send("first")).stored.map((m) => m.body), ["first"]);

    // Bob blocks Ann elsewhere; this isolate still remembers the entry as absent.
    await addBlock(kv, "bob", "ann");
    const refused = await send("after the block");
    eq(refused.stored, []);
    eq(refused.blocked.map((d) => d.body), ["after the block"]);

    await removeBlock(kv, "bob", "ann");
    eq((await send("after the unblock")).stored.map((m) => m.body), ["after the unblock"]);
    const all = await messagesAfter(kv, conv.id, 0, 10);
    eq(all.messages.map((m) => m.body), ["first", "after the unblock"]);
  });
});
