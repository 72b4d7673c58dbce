import { deepStrictEqual as eq, equal, rejects } from "node:assert/strict";
import { AppError } from "../errors.ts";
import { LIMITS } from "../protocol.ts";
import { getMember } from "../store/conversations.ts";
import { commitMessages } from "../store/commit.ts";
import { markOnline } from "../store/presence.ts";
import { withKv } from "../store/testing.ts";
import { createUser } from "../store/users.ts";
import { ChatService } from "./service.ts";
import { PortRecorder } from "./testing.ts";

const code = (c: string, field?: string) => (e: unknown) =>
  e instanceof AppError && e.code === c && e.field === field;

/** Users ann, bea, cid, dan (display names "Ann A." …) and a service over them. */
async function withChat(fn: (chat: ChatService, port: PortRecorder, kv: Deno.Kv) => Promise<void>) {
  await withKv(async (kv) => {
    for (const name of ["ann", "bea", "cid", "dan"]) {
      await createUser(kv, {
        id: name,
        username: name,
        displayName: `${name[0].toUpperCase()}${name.slice(1)} A.`,
        passwordHash: "x",
      });
    }
    const port = new PortRecorder();
    await fn(new ChatService(kv, port), port, kv);
  });
}

/** Stores `n` messages from ann straight in the store (past the per-user send rate), 50 a
 * commit (one commit holds at most 100 checks). */
async function seed(kv: Deno.Kv, convId: string, n: number) {
  for (let i = 0; i < n; i += 50) {
    const ids = Array.from({ length: Math.min(50, n - i) }, (_, j) => `m${i + j + 1}`);
    await commitMessages(
      kv,
      convId,
      ids.map((id) => ({ id, senderId: "ann", kind: "text" as const, body: id })),
    );
  }
}

const send = (chat: ChatService, who: string, convId: string, id: string) =>
  chat.send(who, convId, { id, body: id }, null);

Deno.test("createDirect names the chat by its peer; reopening it gives the same one, not created", async () => {
  await withChat(async (chat) => {
    const first = await chat.createDirect("ann", "bea");
    equal(first.created, true);
    equal(first.conversation.title, "Bea A.");
    equal(first.conversation.peer?.id, "bea");
    const again = await chat.createDirect("bea", "ann");
    equal(again.created, false);
    equal(again.conversation.id, first.conversation.id);
    equal(again.conversation.title, "Ann A.");
  });
});

Deno.test("createDirect with yourself or an unknown user is refused with the field named", async () => {
  await withChat(async (chat) => {
    await rejects(chat.createDirect("ann", "ann"), code("invalid_input", "userId"));
    await rejects(chat.createDirect("ann", "nobody"), code("not_found", "userId"));
  });
});

Deno.test("createGroup names the first unknown member; a good one makes the caller owner", async () => {
  await withChat(async (chat) => {
    await rejects(
      chat.createGroup("ann", "Team", ["bea", "ghost"]),
      (e) => code("invalid_input", "memberIds")(e) && /ghost/.test((e as Error).message),
    );
    const conv = await chat.createGroup("ann", "Team", ["bea", "ann", "bea"]);
    equal(conv.kind, "group");
    equal(conv.title, "Team");
    equal(conv.unread, 0);
    const { members } = await chat.detail("ann", conv.id);
    eq(members.map((m) => [m.username, m.role]), [["ann", "owner"], ["bea", "member"]]);
  });
});

Deno.test("putting people into conversations is rate limited after a burst of 20, with a wait", async () => {
  await withChat(async (chat) => {
    for (let i = 0; i < 20; i++) await chat.createGroup("ann", `G${i}`, []);
    await rejects(
      chat.createGroup("ann", "one too many", []),
      (e) => code("rate_limited")(e) && ((e as AppError).retryAfterMs ?? 0) > 0,
    );
    // Opening an existing direct chat places nobody: still allowed.
    await rejects(chat.createDirect("ann", "bea"), code("rate_limited"));
    await chat.createDirect("bea", "ann");
    equal((await chat.createDirect("ann", "bea")).created, false);
    equal((await chat.listConversations("ann")).conversations.length, 21);
  });
});

Deno.test("a non-member gets the same not_found for every conversation action", async () => {
  await withChat(async (chat) => {
    const conv = await chat.createGroup("ann", "Team", ["bea"]);
    const notFound = code("not_found");
    await rejects(chat.detail("cid", conv.id), notFound);
    await rejects(chat.history("cid", conv.id, {}), notFound);
    await rejects(chat.sync("cid", conv.id, 0), notFound);
    await rejects(chat.read("cid", conv.id, 1, null), notFound);
    await rejects(chat.rename("cid", conv.id, "Mine"), notFound);
    await rejects(chat.addMember("cid", conv.id, "dan"), notFound);
    await rejects(chat.removeMember("cid", conv.id, "bea"), notFound);
    await rejects(chat.setRole("cid", conv.id, "bea", "admin"), notFound);
    await rejects(send(chat, "cid", conv.id, "m1"), notFound);
    await rejects(chat.detail("ann", "missing"), notFound);
    equal(await chat.view("cid", conv.id), null);
  });
});

Deno.test("a direct conversation cannot be renamed or have its members changed", async () => {
  await withChat(async (chat) => {
    const { conversation } = await chat.createDirect("ann", "bea");
    const forbidden = code("forbidden");
    await rejects(chat.rename("ann", conversation.id, "Us"), forbidden);
    await rejects(chat.addMember("ann", conversation.id, "cid"), forbidden);
    await rejects(chat.removeMember("ann", conversation.id, "bea"), forbidden);
  });
});

Deno.test("role rules: owner and admins manage; only the owner changes roles; the owner's stays", async () => {
  await withChat(async (chat, _port, kv) => {
    const conv = await chat.createGroup("ann", "Team", ["bea", "cid"]);
    await rejects(chat.rename("bea", conv.id, "x"), code("forbidden"));
    await rejects(chat.addMember("bea", conv.id, "dan"), code("forbidden"));
    await rejects(chat.setRole("bea", conv.id, "cid", "admin"), code("forbidden"));
    await chat.setRole("ann", conv.id, "bea", "admin");
    await chat.rename("bea", conv.id, "Crew");
    equal((await chat.view("cid", conv.id))?.title, "Crew");
    await chat.addMember("bea", conv.id, "dan");
    await rejects(chat.setRole("bea", conv.id, "cid", "admin"), code("forbidden"), "admins don't");
    await rejects(chat.setRole("ann", conv.id, "ann", "member"), code("forbidden"));
    await rejects(chat.setRole("ann", conv.id, "zed", "admin"), code("not_found"));
    await chat.setRole("ann", conv.id, "bea", "member");
    equal((await getMember(kv, conv.id, "bea"))?.role, "member");
  });
});

Deno.test("removal rules: owner removes anyone, an admin only members, anyone may leave", async () => {
  await withChat(async (chat, port) => {
    const conv = await chat.createGroup("ann", "Team", ["bea", "cid", "dan"]);
    await chat.setRole("ann", conv.id, "bea", "admin");
    await chat.setRole("ann", conv.id, "cid", "admin");
    await rejects(chat.removeMember("dan", conv.id, "cid"), code("forbidden"), "member removes");
    await rejects(
      chat.removeMember("bea", conv.id, "cid"),
      code("forbidden"),
      "admin removes admin",
    );
    await rejects(
      chat.removeMember("bea", conv.id, "ann"),
      code("forbidden"),
      "admin removes owner",
    );
    await rejects(chat.removeMember("bea", conv.id, "zed"), code("not_found"));
    port.events = [];
    await chat.removeMember("bea", conv.id, "dan");
    await chat.removeMember("cid", conv.id, "cid");
    await chat.removeMember("ann", conv.id, "bea");
    eq(port.events.map((e) => e.type === "member_removed" && e.userId), ["dan", "cid", "bea"]);
    const { members } = await chat.detail("ann", conv.id);
    eq(members.map((m) => m.username), ["ann"]);
  });
});

Deno.test("addMember publishes one member_added; adding a member again changes nothing and costs no rate", async () => {
  await withChat(async (chat, port) => {
    const conv = await chat.createGroup("ann", "Team", []);
    port.events = [];
    // Past the burst of 20 placements: re-adding a member places nobody, so costs nothing.
    for (let i = 0; i < 25; i++) await chat.addMember("ann", conv.id, "bea");
    eq(port.events, [{ type: "member_added", conversationId: conv.id, userId: "bea" }]);
    await rejects(chat.addMember("ann", conv.id, "ghost"), code("not_found", "userId"));
  });
});

Deno.test("history pages are bounded by pageMax and go back and forth by seq", async () => {
  await withChat(async (chat, _port, kv) => {
    const conv = await chat.createGroup("ann", "Team", ["bea"]);
    await seed(kv, conv.id, LIMITS.pageMax + 5);
    const latest = await chat.history("bea", conv.id, {});
    equal(latest.messages.length, LIMITS.pageDefault);
    equal(latest.messages.at(-1)?.seq, LIMITS.pageMax + 6, "after the creation (seq 1)");
    equal(latest.hasMore, true);
    const big = await chat.history("bea", conv.id, { limit: 10_000 });
    equal(big.messages.length, LIMITS.pageMax, "a limit past pageMax is cut to it");
    const before = await chat.history("bea", conv.id, { before: 4 });
    eq(before.messages.map((m) => m.seq), [1, 2, 3]);
    equal(before.hasMore, false);
    const after = await chat.history("bea", conv.id, { after: 100, limit: 3 });
    eq(after.messages.map((m) => m.seq), [101, 102, 103]);
    equal(after.hasMore, true);
  });
});

Deno.test("sync hands out at most syncMax messages after a seq", async () => {
  await withChat(async (chat, _port, kv) => {
    const conv = await chat.createGroup("ann", "Team", ["bea"]);
    await seed(kv, conv.id, LIMITS.syncMax + 2);
    const page = await chat.sync("bea", conv.id, 0, 5000);
    equal(page.messages.length, LIMITS.syncMax);
    equal(page.hasMore, true);
    const rest = await chat.sync("bea", conv.id, LIMITS.syncMax);
    // The group's creation (seq 1) is in the stream too.
    eq(rest.messages.map((m) => m.seq), [
      LIMITS.syncMax + 1,
      LIMITS.syncMax + 2,
      LIMITS.syncMax + 3,
    ]);
    equal(rest.hasMore, false);
  });
});

Deno.test("read moves unread to zero, publishes one receipt, and never moves back", async () => {
  await withChat(async (chat, port) => {
    const conv = await chat.createGroup("ann", "Team", ["bea"]);
    for (const id of ["a", "b", "c"]) await send(chat, "ann", conv.id, id);
    equal((await chat.view("bea", conv.id))?.unread, 3);
    equal((await chat.view("ann", conv.id))?.unread, 0, "your own sends are read");
    port.events = [];
    // Stream: the creation (1), then a, b, c (2-4).
    await chat.read("bea", conv.id, 3, "conn-b");
    equal((await chat.view("bea", conv.id))?.unread, 1);
    await chat.read("bea", conv.id, 1, "conn-b");
    await chat.read("bea", conv.id, 99, "conn-b");
    equal((await chat.view("bea", conv.id))?.unread, 0);
    eq(port.events.map((e) => e.type === "receipt" && e.seq), [3, 4], "none for going back");
    const { members } = await chat.detail("ann", conv.id);
    eq(members.map((m) => [m.username, m.lastReadSeq]), [["ann", 4], ["bea", 4]]);
  });
});

Deno.test("listConversations puts the most recent activity first", async () => {
  await withChat(async (chat) => {
    const a = await chat.createGroup("ann", "A", ["bea"]);
    await new Promise((r) => setTimeout(r, 5));
    const b = await chat.createGroup("ann", "B", ["bea"]);
    eq((await chat.listConversations("bea")).conversations.map((c) => c.title), ["B", "A"]);
    await new Promise((r) => setTimeout(r, 5));
    await send(chat, "ann", a.id, "bump");
    eq((await chat.listConversations("bea")).conversations.map((c) => c.id), [a.id, b.id]);
    eq((await chat.listConversations("dan")).conversations, []);
  });
});

Deno.test("detail lists members owner first, then admins, then by username, with presence", async () => {
  await withChat(async (chat, _port, kv) => {
    const conv = await chat.createGroup("dan", "Team", ["cid", "bea", "ann"]);
    await chat.setRole("dan", conv.id, "cid", "admin");
    await markOnline(kv, "iso", ["bea"], 60_000);
    const { members } = await chat.detail("ann", conv.id);
    eq(members.map((m) => [m.username, m.role, m.online]), [
      ["dan", "owner", false],
      ["cid", "admin", false],
      ["ann", "member", false],
      ["bea", "member", true],
    ]);
  });
});

Deno.test("searchUsers matches name prefixes, ignores blank queries, refuses over-long ones", async () => {
  await withChat(async (chat, _port, kv) => {
    await markOnline(kv, "iso", ["bea"], 60_000);
    eq((await chat.searchUsers("BE")).map((u) => [u.username, u.online]), [["bea", true]]);
    eq((await chat.searchUsers("cid a")).map((u) => u.username), ["cid"], "by display name");
    eq(await chat.searchUsers("   "), []);
    eq(await chat.searchUsers(""), []);
    await rejects(
      chat.searchUsers("x".repeat(LIMITS.searchQueryMax + 1)),
      code("invalid_input", "q"),
    );
    eq(await chat.searchUsers("x".repeat(LIMITS.searchQueryMax)), []);
  });
});
