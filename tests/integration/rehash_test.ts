/**
 * Hashes written with earlier, cheaper parameters are replaced on the owner's next successful
 * sign-in (the only moment the password is at hand), and never on a failed one.
 */
import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { oldHash } from "../helpers/passwords.ts";
import { createUser, getUser } from "../../lib/store/users.ts";
import { api, withServer } from "../helpers/server.ts";

Deno.test("a successful login replaces an old-parameter hash; a failed one leaves it", async () => {
  await withServer(async (srv) => {
    const before = await oldHash("password123");
    const user = await createUser(srv.kv, { username: "old_timer", passwordHash: before });
    const wrong = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: "old_timer", password: "password124" },
    });
    equal(wrong.status, 401);
    equal((await getUser(srv.kv, user.id))!.passwordHash, before);

    const ok = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: "old_timer", password: "password123" },
    });
    equal(ok.status, 200);
    const after = (await getUser(srv.kv, user.id))!.passwordHash;
    eq(after.split("$").slice(0, 4), ["scrypt", "16384", "8", "5"]);
    // The new hash is the same password's, and the account works as before.
    const again = await api(srv.url, "POST", "/api/auth/login", {
      body: { username: "old_timer", password: "password123" },
    });
    equal(again.status, 200);
    equal((await getUser(srv.kv, user.id))!.passwordHash, after, "rehashed once only");
    const me = await api(srv.url, "GET", "/api/me", { token: again.body.accessToken });
    eq([me.status, me.body.user.username], [200, "old_timer"]);
  });
});
