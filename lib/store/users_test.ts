import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { AppError } from "../errors.ts";
import { buildUserWordIndex, createUser, getUserByName, searchUsers } from "./users.ts";
import { keys } from "./keys.ts";
import { withKv } from "./testing.ts";

Deno.test("createUser lets exactly one of 20 concurrent registrations of one name win, whatever the case", async () => {
  await withKv(async (kv) => {
    const variants = ["alice", "ALICE", "Alice", "aLiCe"];
    const results = await Promise.allSettled(
      Array.from(
        { length: 20 },
        (_, i) =>
          createUser(kv, { username: variants[i % variants.length], passwordHash: `h${i}` }),
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    equal(won.length, 1);
    equal(lost.length, 19);
    for (const r of lost) {
      ok(r.reason instanceof AppError, String(r.reason));
      equal(r.reason.code, "username_taken");
      equal(r.reason.field, "username");
    }
    const stored = await getUserByName(kv, "alice");
    ok(stored);
    equal(stored.id, won[0].value.id);
    equal(stored.username, "alice");
  });
});

Deno.test("createUser refuses a name already taken in another case with username_taken", async () => {
  await withKv(async (kv) => {
    await createUser(kv, { username: "bob", passwordHash: "h" });
    await rejects(
      () => createUser(kv, { username: "BOB", passwordHash: "h" }),
      (err: unknown) => err instanceof AppError && err.code === "username_taken",
    );
  });
});

Deno.test("getUserByName finds a user whatever the case, and null for an unknown name", async () => {
  await withKv(async (kv) => {
    const created = await createUser(kv, {
      username: "Carol_99",
      displayName: "Carol",
      passwordHash: "h",
    });
    equal(created.username, "carol_99");
    for (const name of ["carol_99", "CAROL_99", "Carol_99"]) {
      equal((await getUserByName(kv, name))?.id, created.id, name);
    }
    equal(await getUserByName(kv, "nobody"), null);
  });
});

Deno.test("searchUsers finds users by username prefix and by display-name prefix, without password hashes", async () => {
  await withKv(async (kv) => {
    const alice = await createUser(kv, {
      username: "alice",
      displayName: "Alice Liddell",
      passwordHash: "secret-hash",
    });
    const bob = await createUser(kv, {
      username: "bob",
      displayName: "Alfred Bob",
      passwordHash: "secret-hash",
    });
    const carol = await createUser(kv, {
      username: "carol",
      displayName: "Carol",
      passwordHash: "secret-hash",
    });

    const al = await searchUsers(kv, "al", 20);
    deepStrictEqual(al.map((u) => u.id).sort(), [alice.id, bob.id].sort());
    for (const u of al) {
      deepStrictEqual(Object.keys(u).sort(), ["avatarUrl", "displayName", "id", "username"]);
    }

    deepStrictEqual((await searchUsers(kv, "CAR", 20)).map((u) => u.id), [carol.id]);
    deepStrictEqual((await searchUsers(kv, "alfred", 20)).map((u) => u.id), [bob.id]);
    deepStrictEqual(await searchUsers(kv, "zed", 20), []);
    // A user matching by both username and display name appears once.
    deepStrictEqual((await searchUsers(kv, "alice", 20)).map((u) => u.id), [alice.id]);
    equal((await searchUsers(kv, "a", 1)).length, 1);
  });
});

Deno.test("searchUsers matches any word of the name or username, ignoring case and accents", async () => {
  await withKv(async (kv) => {
    const grace = await createUser(kv, {
      username: "grace_hopper",
      displayName: "Grace Brewster Hopper",
      passwordHash: "h",
    });
    const emile = await createUser(kv, {
      username: "emile",
      displayName: "Émile Zola",
      passwordHash: "h",
    });
    const ids = async (q: string) => (await searchUsers(kv, q, 20)).map((u) => u.id);
    deepStrictEqual(await ids("Hopper"), [grace.id]);
    deepStrictEqual(await ids("brew"), [grace.id]);
    deepStrictEqual(await ids("HOP"), [grace.id]);
    deepStrictEqual(await ids("grace_h"), [grace.id]);
    deepStrictEqual(await ids("grace hop"), [grace.id]);
    deepStrictEqual(await ids("grace zola"), []);
    deepStrictEqual(await ids("emile"), [emile.id]);
    deepStrictEqual(await ids("ÉMI"), [emile.id]);
    deepStrictEqual(await ids("zol"), [emile.id]);
    deepStrictEqual(await ids("   "), []);
  });
});

Deno.test("buildUserWordIndex makes users from before the word index findable, once", async () => {
  await withKv(async (kv) => {
    // A user as the old code stored them: a record and a username entry, no words.
    const old = {
      id: "u-old",
      username: "katherine",
      displayName: "Katherine Johnson",
      passwordHash: "h",
      createdAt: 1,
    };
    await kv.atomic().set(keys.user(old.id), old).set(keys.userByName(old.username), old.id)
      .commit();
    deepStrictEqual(await searchUsers(kv, "johnson", 20), []);
    equal(await buildUserWordIndex(kv), 1);
    deepStrictEqual((await searchUsers(kv, "johnson", 20)).map((u) => u.id), [old.id]);
    equal(await buildUserWordIndex(kv), 0);
  });
});
