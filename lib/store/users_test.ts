import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { AppError } from "../errors.ts";
import { createUser, getUserByName, searchUsers } from "./users.ts";
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
      deepStrictEqual(Object.keys(u).sort(), ["displayName", "id", "username"]);
    }

    deepStrictEqual((await searchUsers(kv, "CAR", 20)).map((u) => u.id), [carol.id]);
    deepStrictEqual((await searchUsers(kv, "alfred", 20)).map((u) => u.id), [bob.id]);
    deepStrictEqual(await searchUsers(kv, "zed", 20), []);
    // A user matching by both username and display name appears once.
    deepStrictEqual((await searchUsers(kv, "alice", 20)).map((u) => u.id), [alice.id]);
    equal((await searchUsers(kv, "a", 1)).length, 1);
  });
});
