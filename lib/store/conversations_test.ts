import { deepStrictEqual as eq, equal, rejects } from "node:assert/strict";
import { AppError } from "../errors.ts";
import { LIMITS } from "../protocol.ts";
import {
  addMember,
  createDirect,
  createGroup,
  findDirect,
  getConversation,
  getConversations,
  getMember,
  listMembers,
  listMemberships,
  removeMember,
  setRole,
  setTitle,
} from "./conversations.ts";
import { eventsHead, readEvents } from "./events.ts";
import { headsAndCursors } from "./messages.ts";
import { commitMessages } from "./commit.ts";
import { withKv } from "./testing.ts";

const code = (c: string, field?: string) => (e: unknown) =>
  e instanceof AppError && e.code === c && e.field === field;

const roles = async (kv: Deno.Kv, convId: string) =>
  Object.fromEntries((await listMembers(kv, convId)).map((m) => [m.userId, m.role]));

Deno.test("createDirect makes one conversation per pair, in either order, and logs both members", async () => {
  await withKv(async (kv) => {
    const first = await createDirect(kv, "ann", "bea");
    equal(first.created, true);
    equal(first.conversation.kind, "direct");
    equal(first.conversation.memberCount, 2);
    const again = await createDirect(kv, "ann", "bea");
    eq(again, { conversation: first.conversation, created: false });
    equal(await findDirect(kv, "ann", "bea"), first.conversation.id);
    equal(await findDirect(kv, "bea", "ann"), first.conversation.id, "the pair has no order");
    const reverse = await createDirect(kv, "bea", "ann");
    equal(reverse.conversation.id, first.conversation.id);
    equal(reverse.created, false);
    eq(await roles(kv, first.conversation.id), { ann: "member", bea: "member" });
    eq(
      (await readEvents(kv, 0, await eventsHead(kv))).map((e) => e.event.type),
      ["member_added", "member_added"],
    );
  });
});

Deno.test("concurrent createDirect of the same pair agree on one conversation", async () => {
  await withKv(async (kv) => {
    const all = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => createDirect(kv, i % 2 ? "ann" : "bea", i % 2 ? "bea" : "ann"),
      ),
    );
    equal(new Set(all.map((r) => r.conversation.id)).size, 1);
    equal(all.filter((r) => r.created).length, 1, "exactly one creation wins");
    eq(await listMemberships(kv, "ann"), [all[0].conversation.id]);
  });
});

Deno.test("createGroup makes the creator owner, drops duplicates and the owner from members", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea", "bea", "ann", "cid"]);
    equal(conv.memberCount, 3);
    eq(await roles(kv, conv.id), { ann: "owner", bea: "member", cid: "member" });
    eq((await getConversation(kv, conv.id)).value, conv);
    eq(await listMemberships(kv, "bea"), [conv.id]);
    const { heads, cursors } = await headsAndCursors(kv, [conv.id], "bea");
    equal(heads[0]?.seq, 1, "the stream opens with the group's creation");
    eq(heads[0]?.last?.system, { action: "created", actorId: "ann", title: "Team" });
    equal(cursors[0], 0, "a new member has nothing unread");
  });
});

Deno.test("createGroup of more members than one commit holds stores them all", async () => {
  await withKv(async (kv) => {
    const ids = Array.from({ length: 700 }, (_, i) => `u${i}`);
    const conv = await createGroup(kv, "ann", "Big", ids);
    equal(conv.memberCount, 701);
    equal((await listMembers(kv, conv.id)).length, 701);
    equal(await eventsHead(kv), 701, "one member_added per member, owner included");
  });
});

Deno.test("getConversation and getMember treat an over-long id as naming nothing", async () => {
  await withKv(async (kv) => {
    const long = "x".repeat(101);
    equal((await getConversation(kv, long)).value, null);
    equal(await getMember(kv, long, "ann"), null);
    equal(await getMember(kv, "c", long), null);
    equal((await getConversation(kv, "missing")).value, null);
  });
});

Deno.test("getConversations leaves out missing ids and keeps the order asked", async () => {
  await withKv(async (kv) => {
    const a = await createGroup(kv, "ann", "A", []);
    const b = await createGroup(kv, "ann", "B", []);
    eq((await getConversations(kv, [b.id, "nope", a.id])).map((c) => c.title), ["B", "A"]);
  });
});

Deno.test("setTitle renames and logs a conversation_changed; a missing conversation is not_found", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", []);
    const before = await eventsHead(kv);
    await setTitle(kv, conv.id, "Crew");
    equal((await getConversation(kv, conv.id)).value?.title, "Crew");
    eq((await readEvents(kv, before, before + 1))[0].event, {
      type: "conversation_changed",
      conversationId: conv.id,
    });
    await rejects(setTitle(kv, "missing", "x"), code("not_found"));
  });
});

Deno.test("addMember joins at the current head (history visible, nothing unread) and counts once", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", []);
    await commitMessages(kv, conv.id, [
      { id: "m1", senderId: "ann", kind: "text", body: "a" },
      { id: "m2", senderId: "ann", kind: "text", body: "b" },
    ]);
    const logged = await addMember(kv, conv.id, "bea");
    eq(logged?.map((l) => l.event), [{
      type: "member_added",
      conversationId: conv.id,
      userId: "bea",
    }]);
    // created (1), m1, m2, then the "added" system message (4), stored with the member.
    equal((await headsAndCursors(kv, [conv.id], "bea")).cursors[0], 4);
    eq((await headsAndCursors(kv, [conv.id], "bea")).heads[0]?.last?.system, {
      action: "added",
      actorId: "bea",
      userId: "bea",
    });
    equal(await addMember(kv, conv.id, "bea"), null, "already a member: a no-op");
    equal((await getConversation(kv, conv.id)).value?.memberCount, 2);
    equal((await getMember(kv, conv.id, "bea"))?.role, "member");
  });
});

Deno.test("addMember to a missing conversation is not_found", async () => {
  await withKv(async (kv) => {
    await rejects(addMember(kv, "missing", "bea"), code("not_found"));
  });
});

Deno.test("addMember refuses the member past the 5,000-member cap", async () => {
  await withKv(async (kv) => {
    const others = Array.from({ length: LIMITS.groupMaxMembers - 1 }, (_, i) => `u${i}`);
    const conv = await createGroup(kv, "ann", "Full", others);
    equal(conv.memberCount, LIMITS.groupMaxMembers);
    await rejects(
      addMember(kv, conv.id, "late"),
      (e) => code("invalid_input")(e) && /5,000/.test((e as Error).message),
    );
    equal(await getMember(kv, conv.id, "late"), null);
    equal((await getConversation(kv, conv.id)).value?.memberCount, LIMITS.groupMaxMembers);
    await removeMember(kv, conv.id, "u0");
    await addMember(kv, conv.id, "late");
    equal((await getMember(kv, conv.id, "late"))?.role, "member", "room again after a removal");
  });
});

Deno.test("setRole changes a member's role; a non-member is not_found", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    await setRole(kv, conv.id, "bea", "admin");
    equal((await getMember(kv, conv.id, "bea"))?.role, "admin");
    await rejects(setRole(kv, conv.id, "zed", "admin"), code("not_found"));
  });
});

Deno.test("removeMember drops membership, cursor and count; a non-member gives null", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    const logged = await removeMember(kv, conv.id, "bea");
    eq(logged?.map((l) => l.event), [{
      type: "member_removed",
      conversationId: conv.id,
      userId: "bea",
    }]);
    equal(await getMember(kv, conv.id, "bea"), null);
    eq(await listMemberships(kv, "bea"), []);
    equal((await headsAndCursors(kv, [conv.id], "bea")).cursors[0], null);
    equal((await getConversation(kv, conv.id)).value?.memberCount, 1);
    equal(await removeMember(kv, conv.id, "bea"), null);
    equal(await removeMember(kv, "missing", "bea"), null);
  });
});

Deno.test("when the owner leaves, the earliest admin becomes owner, else the earliest member", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    await new Promise((r) => setTimeout(r, 5));
    await addMember(kv, conv.id, "cid");
    await setRole(kv, conv.id, "cid", "admin");
    await removeMember(kv, conv.id, "ann");
    eq(
      await roles(kv, conv.id),
      { bea: "member", cid: "owner" },
      "an admin beats an earlier member",
    );
    await removeMember(kv, conv.id, "cid");
    eq(await roles(kv, conv.id), { bea: "owner" }, "with no admin, a member takes over");
    await removeMember(kv, conv.id, "bea");
    eq(await listMembers(kv, conv.id), []);
    equal((await getConversation(kv, conv.id)).value?.memberCount, 0, "kept, empty");
  });
});

Deno.test("a group of 1,000 members with UUID ids is created whole (commits stay under KV's key-size limit)", async () => {
  await withKv(async (kv) => {
    const owner = crypto.randomUUID();
    const others = Array.from({ length: 999 }, () => crypto.randomUUID());
    const conv = await createGroup(kv, owner, "Everyone", others);
    equal(conv.memberCount, 1000);
    equal((await listMembers(kv, conv.id)).length, 1000);
    equal((await listMemberships(kv, others[998])).length, 1);
  });
});
