import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { keys } from "./keys.ts";
import {
  buildUserSessionIndex,
  createSession,
  listUserSessions,
  revokeUserSessions,
  rotateSession,
  TOUCH_EVERY_MS,
  touchSession,
} from "./sessions.ts";
import { withKv } from "./testing.ts";

Deno.test("listUserSessions() lists one user's live sessions, oldest first, and no one else's", async () => {
  await withKv(async (kv) => {
    const a = await createSession(kv, "u1", 3600, { userAgent: "Firefox/1" });
    const b = await createSession(kv, "u1", 3600);
    await createSession(kv, "u2", 3600);
    const list = await listUserSessions(kv, "u1");
    deepStrictEqual(list.map((s) => s.id), [a.session.id, b.session.id]);
    equal(list[0].userAgent, "Firefox/1");
  });
});

Deno.test("revokeUserSessions() ends every session but the one kept, and their index entries", async () => {
  await withKv(async (kv) => {
    const keep = await createSession(kv, "u1", 3600);
    await createSession(kv, "u1", 3600);
    await createSession(kv, "u1", 3600);
    equal(await revokeUserSessions(kv, "u1", keep.session.id, "user"), 2);
    deepStrictEqual((await listUserSessions(kv, "u1")).map((s) => s.id), [keep.session.id]);
    let entries = 0;
    for await (const _ of kv.list({ prefix: keys.userSessionsOf("u1") })) entries++;
    equal(entries, 1);
  });
});

Deno.test("touchSession() writes at most every five minutes, slides the expiry, and stops at the cap", async () => {
  await withKv(async (kv) => {
    const { session } = await createSession(kv, "u1", 3600, { maxSec: 4000 });
    equal(await touchSession(kv, session, 3600), null, "just used: no write");
    const later = session.createdAt + TOUCH_EVERY_MS + 1;
    const slid = await touchSession(kv, session, 3800, later);
    ok(slid);
    equal(slid.lastUsedAt, later);
    equal(slid.expiresAt, session.createdAt + 4000 * 1000, "capped by maxSec");
    // A rotation keeps the cap too.
    const rotated = await createSession(kv, "u2", 3600, { maxSec: 10 });
    const next = await rotateSession(kv, rotated.secrets.refreshToken, "refresh", 3600);
    ok(next);
    ok(next.session.expiresAt <= rotated.session.createdAt + 10_000);
  });
});

Deno.test("buildUserSessionIndex() indexes sessions made before the index, once", async () => {
  await withKv(async (kv) => {
    const { session } = await createSession(kv, "u1", 3600);
    await kv.delete(keys.userSession("u1", session.id));
    equal((await listUserSessions(kv, "u1")).length, 0);
    equal(await buildUserSessionIndex(kv), 1);
    equal((await listUserSessions(kv, "u1")).length, 1);
    equal(await buildUserSessionIndex(kv), 0, "the marker makes it a no-op");
  });
});
