import { equal, notEqual, ok } from "node:assert/strict";
import {
  createSession,
  getSession,
  revokeSession,
  rotateSession,
  sessionFromCookie,
} from "./sessions.ts";
import { withKv } from "./testing.ts";

const TTL = 3600;

Deno.test("a new session is found by its cookie, and not by a wrong or malformed cookie", async () => {
  await withKv(async (kv) => {
    const { session, secrets } = await createSession(kv, "user-1", TTL);
    const found = await sessionFromCookie(kv, secrets.cookieToken);
    equal(found?.id, session.id);
    equal(found?.userId, "user-1");
    // The refresh token is a different credential and does not work as a cookie.
    equal(await sessionFromCookie(kv, secrets.refreshToken), null);
    equal(await sessionFromCookie(kv, `${session.id}.not-the-secret`), null);
    equal(await sessionFromCookie(kv, "garbage"), null);
    equal(await sessionFromCookie(kv, ""), null);
    // Secrets are stored only as hashes.
    const raw = JSON.stringify((await kv.get(["sessions", session.id])).value);
    ok(!raw.includes(secrets.cookieToken.split(".")[1]));
    ok(!raw.includes(secrets.refreshToken.split(".")[1]));
  });
});

Deno.test("rotateSession with the refresh token hands out new secrets and keeps the session", async () => {
  await withKv(async (kv) => {
    const { session, secrets } = await createSession(kv, "user-1", TTL);
    const rotated = await rotateSession(kv, secrets.refreshToken, "refresh", TTL);
    ok(rotated);
    equal(rotated.session.id, session.id);
    notEqual(rotated.secrets.refreshToken, secrets.refreshToken);
    notEqual(rotated.secrets.cookieToken, secrets.cookieToken);
    equal((await sessionFromCookie(kv, rotated.secrets.cookieToken))?.id, session.id);
    equal(await sessionFromCookie(kv, secrets.cookieToken), null, "the old cookie stops working");
    ok(await rotateSession(kv, rotated.secrets.refreshToken, "refresh", TTL));
  });
});

Deno.test("reusing an already-used refresh token fails and revokes the whole session", async () => {
  await withKv(async (kv) => {
    const { session, secrets } = await createSession(kv, "user-1", TTL);
    const rotated = await rotateSession(kv, secrets.refreshToken, "refresh", TTL);
    ok(rotated);
    equal(await rotateSession(kv, secrets.refreshToken, "refresh", TTL), null);
    equal(await getSession(kv, session.id), null);
    // Even the newest credentials are dead now.
    equal(await rotateSession(kv, rotated.secrets.refreshToken, "refresh", TTL), null);
    equal(await sessionFromCookie(kv, rotated.secrets.cookieToken), null);
  });
});

Deno.test("rotateSession by cookie rotates both credentials", async () => {
  await withKv(async (kv) => {
    const { session, secrets } = await createSession(kv, "user-1", TTL);
    const rotated = await rotateSession(kv, secrets.cookieToken, "cookie", TTL);
    ok(rotated);
    equal(rotated.session.id, session.id);
    equal(await sessionFromCookie(kv, secrets.cookieToken), null);
    equal((await sessionFromCookie(kv, rotated.secrets.cookieToken))?.id, session.id);
  });
});

Deno.test("only one of two concurrent rotations with the same refresh token succeeds", async () => {
  await withKv(async (kv) => {
    const { secrets } = await createSession(kv, "user-1", TTL);
    const results = await Promise.all([
      rotateSession(kv, secrets.refreshToken, "refresh", TTL),
      rotateSession(kv, secrets.refreshToken, "refresh", TTL),
    ]);
    equal(results.filter(Boolean).length, 1);
  });
});

Deno.test("revokeSession makes the session and its credentials gone", async () => {
  await withKv(async (kv) => {
    const { session, secrets } = await createSession(kv, "user-1", TTL);
    const other = await createSession(kv, "user-1", TTL);
    await revokeSession(kv, session.id);
    equal(await getSession(kv, session.id), null);
    equal(await sessionFromCookie(kv, secrets.cookieToken), null);
    equal(await rotateSession(kv, secrets.refreshToken, "refresh", TTL), null);
    // Other sessions of the same user are untouched; revoking twice is harmless.
    equal((await getSession(kv, other.session.id))?.id, other.session.id);
    await revokeSession(kv, session.id);
  });
});

Deno.test("an expired session is refused by cookie, by id and for refresh", async () => {
  await withKv(async (kv) => {
    const { session, secrets } = await createSession(kv, "user-1", 0.05);
    await new Promise((r) => setTimeout(r, 80));
    equal(await getSession(kv, session.id), null);
    equal(await sessionFromCookie(kv, secrets.cookieToken), null);
    equal(await rotateSession(kv, secrets.refreshToken, "refresh", TTL), null);
  });
});
