/**
 * Reactions under contention and group changes as system messages: 20 members toggling one
 * reaction at once end in exactly the right set (each toggle is a change under its own seq,
 * none lost); at most 20 distinct emoji; every group change is a `kind: "system"` message that
 * nobody has unread.
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import type { Message } from "../../lib/protocol.ts";
import { api, register, startServer } from "../helpers/server.ts";

Deno.test("20 members toggling one reaction concurrently end in the right set", async () => {
  const srv = await startServer();
  try {
    const people = await Promise.all(Array.from({ length: 20 }, () => register(srv.url)));
    const [owner, ...rest] = people;
    const g = await api(srv.url, "POST", "/api/conversations", {
      token: owner.accessToken,
      body: { kind: "group", title: "Many", memberIds: rest.map((p) => p.user.id) },
    });
    const convId = g.body.conversation.id;
    const base = `/api/conversations/${convId}/messages`;
    const seq = (await api(srv.url, "POST", base, {
      token: owner.accessToken,
      body: { id: "m", body: "react to me" },
    })).body.seq;
    const react = (who: (typeof people)[number], emoji: string, on: boolean) =>
      api(srv.url, "POST", `${base}/${seq}/reactions`, {
        token: who.accessToken,
        body: { id: crypto.randomUUID(), emoji, on },
      });

    const on = await Promise.all(people.map((p) => react(p, "👍", true)));
    eq(on.map((r) => r.status), Array(20).fill(201));
    const seqs = on.map((r) => r.body.seq as number).sort((a, b) => a - b);
    eq(seqs, Array.from({ length: 20 }, (_, i) => seq + 1 + i), "one seq each, no gap");
    // Half take theirs back while a quarter add a second emoji, all at once.
    const off = people.slice(0, 10), party = people.slice(5, 10);
    const mixed = await Promise.all([
      ...off.map((p) => react(p, "👍", false)),
      ...party.map((p) => react(p, "🎉", true)),
    ]);
    ok(mixed.every((r) => r.status === 201));
    const all = await api(srv.url, "GET", `${base}/${seq}/reactions`, {
      token: rest[3].accessToken,
    });
    const byEmoji = new Map(
      all.body.reactions.map((r: { emoji: string; userIds: string[]; count: number }) => [
        r.emoji,
        r,
      ]),
    ) as Map<string, { userIds: string[]; count: number }>;
    eq([...byEmoji.keys()], ["👍", "🎉"], "in order of first use");
    eq(byEmoji.get("👍")!.userIds.sort(), people.slice(10).map((p) => p.user.id).sort());
    eq(byEmoji.get("👍")!.count, 10);
    eq(byEmoji.get("🎉")!.userIds.sort(), party.map((p) => p.user.id).sort());
    const page = await api(srv.url, "GET", base, { token: owner.accessToken });
    const m = page.body.messages.find((x: Message) => x.seq === seq) as Message;
    eq(m.reactions.map((r) => [r.emoji, r.count, r.userIds.length]), [["👍", 10, 10], [
      "🎉",
      5,
      5,
    ]]);
    eq(m.version, Math.max(...mixed.map((r) => r.body.seq)));

    // At most 20 distinct emoji on one message.
    const more = [
      "😀",
      "😂",
      "😍",
      "😎",
      "🤔",
      "😴",
      "😡",
      "👏",
      "🙏",
      "🔥",
      "✅",
      "❌",
      "💯",
      "🚀",
    ];
    const extra = ["🌈", "🍕", "⚽", "🎵"];
    for (const e of [...more, ...extra]) eq((await react(owner, e, true)).status, 201);
    const refused = await react(owner, "🐙", true);
    eq([refused.status, refused.body.error.code, refused.body.error.field], [
      400,
      "invalid_input",
      "emoji",
    ]);
    eq((await react(rest[0], "🔥", true)).status, 201, "an emoji already there is fine");
  } finally {
    await srv.close();
  }
});

Deno.test("group changes are system messages stored with the change, never unread", async () => {
  const srv = await startServer();
  try {
    const [owner, bea, cid, dan] = await Promise.all([1, 2, 3, 4].map(() => register(srv.url)));
    const g = await api(srv.url, "POST", "/api/conversations", {
      token: owner.accessToken,
      body: { kind: "group", title: "Crew", memberIds: [bea.user.id, cid.user.id] },
    });
    const convId = g.body.conversation.id;
    const call = (who: typeof owner, method: string, path: string, body?: unknown) =>
      api(srv.url, method, `/api/conversations/${convId}${path}`, { token: who.accessToken, body });
    eq((await call(owner, "PATCH", "", { title: "Crew 2" })).status, 204);
    eq((await call(owner, "POST", "/members", { userId: dan.user.id })).status, 204);
    eq((await call(owner, "DELETE", `/members/${cid.user.id}`)).status, 204);
    eq((await call(owner, "DELETE", `/members/${owner.user.id}`)).status, 204);
    const history = await call(bea, "GET", "/messages");
    const systems = history.body.messages.map((m: Message) => [m.kind, m.system]);
    eq(systems, [
      ["system", { action: "created", actorId: owner.user.id, title: "Crew" }],
      ["system", { action: "renamed", actorId: owner.user.id, title: "Crew 2" }],
      ["system", { action: "added", actorId: owner.user.id, userId: dan.user.id }],
      ["system", { action: "removed", actorId: owner.user.id, userId: cid.user.id }],
      ["system", { action: "left", actorId: owner.user.id, userId: owner.user.id }],
      ["system", { action: "owner_changed", actorId: owner.user.id, userId: bea.user.id }],
    ]);
    eq(history.body.messages.map((m: Message) => m.seq), [1, 2, 3, 4, 5, 6]);
    for (const who of [bea, dan]) {
      const view = (await call(who, "GET", "")).body.conversation;
      eq([view.unread, view.lastSeq], [0, 6], "group changes are never unread");
    }
    const detail = await call(bea, "GET", "");
    eq(
      detail.body.members.find((m: { id: string }) => m.id === bea.user.id).role,
      "owner",
      "the owner change the system message records happened",
    );
  } finally {
    await srv.close();
  }
});
