/**
 * `GET /api/conversations` by pages: most recent activity first, pages disjoint and complete,
 * stable while messages arrive, the cursor checked, and groups crossing 50 members.
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import type { Conversation } from "../../lib/protocol.ts";
import { addMember, createGroup, removeMember } from "../../lib/store/conversations.ts";
import { keys } from "../../lib/store/keys.ts";
import { commitMessages } from "../../lib/store/commit.ts";
import { type Account, api, register, withServer, WsClient } from "../helpers/server.ts";

type Page = { conversations: Conversation[]; nextCursor: string | null };

async function page(base: string, who: Account, query = ""): Promise<Page> {
  const res = await api(base, "GET", `/api/conversations${query}`, { token: who.accessToken });
  eq(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Every page after `first`, following nextCursor. */
async function rest(base: string, who: Account, first: Page, limit: number, extra = "") {
  const pages = [first];
  while (pages[pages.length - 1].nextCursor) {
    const cursor = encodeURIComponent(pages[pages.length - 1].nextCursor!);
    pages.push(await page(base, who, `?limit=${limit}&cursor=${cursor}${extra}`));
  }
  return pages;
}

const ids = (pages: Page[]) => pages.flatMap((p) => p.conversations.map((c) => c.id));

/** Groups of alice and bob made in the store (the API limits how fast people are placed). */
async function groups(kv: Deno.Kv, alice: Account, bob: Account, n: number) {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push((await createGroup(kv, alice.user.id, `G${i}`, [bob.user.id])).id);
  }
  return out;
}

/** A message in the store, a few milliseconds after whatever came before (order by time). */
async function say(kv: Deno.Kv, convId: string, who: Account, body = "hi") {
  await tick();
  await commitMessages(kv, convId, [{
    id: crypto.randomUUID(),
    senderId: who.user.id,
    kind: "text",
    body,
  }]);
}

const tick = () => new Promise((r) => setTimeout(r, 3));

Deno.test("the list comes in pages, most recent activity first, disjoint and complete", async () => {
  await withServer(async (srv) => {
    const [alice, bob] = await Promise.all([register(srv.url), register(srv.url)]);
    const all = await groups(srv.kv, alice, bob, 120);
    // Messages put some old ones on top, in a known order.
    for (const id of [all[3], all[70], all[11]]) await say(srv.kv, id, bob);
    const first = await page(srv.url, alice);
    eq(first.conversations.length, 50, "limit defaults to 50");
    eq(first.conversations.slice(0, 3).map((c) => c.id), [all[11], all[70], all[3]]);
    const pages = await rest(srv.url, alice, await page(srv.url, alice, "?limit=7"), 7);
    eq(pages.length, Math.ceil(120 / 7));
    const seen = ids(pages);
    eq(seen.length, 120, "no conversation twice");
    eq(new Set(seen), new Set(all), "every conversation once");
    const ts = pages.flatMap((p) => p.conversations.map((c) => c.lastActivityTs));
    ok(ts.every((t, i) => i === 0 || ts[i - 1] >= t), "newest first across pages");
    eq(pages[pages.length - 1].nextCursor, null);
    const full = await page(srv.url, alice, "?limit=100");
    eq(full.conversations.length, 100);
    ok(full.nextCursor);
    // Bob sees the same conversations; a newcomer none.
    eq(new Set(ids(await rest(srv.url, bob, await page(srv.url, bob), 50))), new Set(all));
    const carol = await register(srv.url);
    eq(await page(srv.url, carol), { conversations: [], nextCursor: null });
  });
});

Deno.test("pages stay disjoint and complete while messages arrive; risen ones come live", async () => {
  await withServer(async (srv) => {
    const [alice, bob] = await Promise.all([register(srv.url), register(srv.url)]);
    const all = await groups(srv.kv, alice, bob, 60);
    const ws = await WsClient.connect(srv.wsUrl, alice.accessToken);
    try {
      const first = await page(srv.url, alice, "?limit=10");
      const pages = [first];
      const risen = new Set<string>();
      while (pages[pages.length - 1].nextCursor) {
        // Between pages, bob writes into one not yet listed (it rises above page 1) and into
        // one already listed.
        const listed = new Set(ids(pages));
        const unlisted = all.find((id) => !listed.has(id) && !risen.has(id));
        const res = await api(srv.url, "POST", `/api/conversations/${unlisted}/messages`, {
          token: bob.accessToken,
          body: { id: crypto.randomUUID(), body: "news" },
        });
        eq(res.status, 201);
        risen.add(unlisted!);
        await say(srv.kv, [...listed][0], bob);
        const cursor = encodeURIComponent(pages[pages.length - 1].nextCursor!);
        pages.push(await page(srv.url, alice, `?limit=10&cursor=${cursor}`));
      }
      const seen = ids(pages);
      eq(seen.length, new Set(seen).size, "pages never repeat a conversation");
      for (const id of all) ok(seen.includes(id) || risen.has(id), `${id} neither listed nor live`);
      // What rose after page 1 reached alice as a live frame.
      for (const id of risen) {
        await ws.next((f) => f.type === "message" && f.message.conversationId === id);
      }
    } finally {
      ws.close();
    }
  });
});

Deno.test("bad limit, archived and cursor values are refused with invalid_input", async () => {
  await withServer(async (srv) => {
    const alice = await register(srv.url);
    const bad = async (query: string, field: string) => {
      const res = await api(srv.url, "GET", `/api/conversations${query}`, {
        token: alice.accessToken,
      });
      eq([res.status, res.body.error.code, res.body.error.field], [400, "invalid_input", field]);
    };
    for (const q of ["?limit=0", "?limit=101", "?limit=abc", "?limit=1.5", "?limit=-1"]) {
      await bad(q, "limit");
    }
    await bad("?archived=yes", "archived");
    for (
      const c of [
        "abc",
        "%%%",
        btoa("[1]"),
        btoa('["x","y"]'),
        btoa('[1,""]'),
        btoa("{}"),
        "A".repeat(400),
      ]
    ) await bad(`?cursor=${encodeURIComponent(c)}`, "cursor");
    // A cursor past everything is simply the end.
    const end = btoa(JSON.stringify([0, "0"])).replace(/=+$/, "");
    eq(await page(srv.url, alice, `?cursor=${end}`), { conversations: [], nextCursor: null });
  });
});

Deno.test("a group crossing 50 members either way stays listed, in order, for everyone", async () => {
  await withServer(async (srv) => {
    const [alice, bob] = await Promise.all([register(srv.url), register(srv.url)]);
    const others = Array.from({ length: 48 }, (_, i) => `ghost-${i}`);
    const older = (await createGroup(srv.kv, alice.user.id, "older", [bob.user.id])).id;
    await tick();
    const big = (await createGroup(srv.kv, alice.user.id, "big", [bob.user.id, ...others])).id;
    await tick();
    const newer = (await createGroup(srv.kv, alice.user.id, "newer", [bob.user.id])).id;
    const order = async (who: Account) => (await page(srv.url, who)).conversations.map((c) => c.id);
    eq(await order(alice), [newer, big, older]);
    // 51 members: no per-member entry is left; the group is read at query time.
    await addMember(srv.kv, big, "ghost-48");
    const inboxOf = async (userId: string) => {
      const out: unknown[] = [];
      for await (const e of srv.kv.list({ prefix: keys.inboxOf(userId) })) out.push(e.key[3]);
      return out;
    };
    ok(!(await inboxOf(alice.user.id)).includes(big));
    // The "added" line is the group's newest message: the group rises, as a message would.
    eq(await order(alice), [big, newer, older]);
    await say(srv.kv, big, bob);
    eq(await order(alice), [big, newer, older]);
    eq(await order(bob), [big, newer, older]);
    await say(srv.kv, older, alice);
    eq(await order(bob), [older, big, newer]);
    // Back to 50: indexed per member again, still in its place.
    await removeMember(srv.kv, big, "ghost-0");
    ok((await inboxOf(alice.user.id)).includes(big));
    // Indexed again, at the time of its newest line (the "removed" one).
    eq(await order(alice), [big, older, newer]);
    await say(srv.kv, big, bob);
    eq(await order(alice), [big, older, newer]);
    // Someone leaving takes the conversation out of their list only.
    await removeMember(srv.kv, big, bob.user.id);
    eq(await order(bob), [older, newer]);
    eq(await order(alice), [big, older, newer]);
  });
});
