import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { withKv } from "./testing.ts";
import { searchUsers } from "./users.ts";
import { keys } from "./keys.ts";
import {
  ensureSchema,
  type Migration,
  readSchemaVersion,
  SCHEMA_VERSION,
  SchemaError,
} from "./schema.ts";

Deno.test("ensureSchema() stamps an empty store with the current version", async () => {
  await withKv(async (kv) => {
    assertEquals(await readSchemaVersion(kv), null);
    assertEquals(await ensureSchema(kv), { from: null, to: SCHEMA_VERSION });
    assertEquals((await kv.get(keys.schemaVersion())).value, SCHEMA_VERSION);
  });
});

Deno.test("ensureSchema() upgrades a store from before the version key, keeping its data", async () => {
  await withKv(async (kv) => {
    await kv.set(keys.user("u1"), { id: "u1", username: "ann", displayName: "Ann" });
    assertEquals(await readSchemaVersion(kv), 0);
    assertEquals(await ensureSchema(kv), { from: 0, to: SCHEMA_VERSION });
    assertEquals((await kv.get(keys.user("u1"))).value, {
      id: "u1",
      username: "ann",
      displayName: "Ann",
    });
    assertEquals(await readSchemaVersion(kv), SCHEMA_VERSION);
  });
});

Deno.test("ensureSchema() runs each step in order, one version at a time", async () => {
  await withKv(async (kv) => {
    await kv.set(keys.schemaVersion(), 1);
    await kv.set(["items", "a"], { name: "A" });
    const ran: number[] = [];
    const migrations: Migration[] = [
      {
        from: 2,
        description: "name to title",
        run: async (kv) => {
          ran.push(2);
          const e = await kv.get<{ label: string }>(["items", "a"]);
          // Step 2 relies on step 1 having run first.
          await kv.set(["items", "a"], { title: e.value!.label });
        },
      },
      {
        from: 1,
        description: "name to label",
        run: async (kv) => {
          ran.push(1);
          const e = await kv.get<{ name: string }>(["items", "a"]);
          await kv.set(["items", "a"], { label: e.value!.name });
        },
      },
    ];
    assertEquals(await ensureSchema(kv, { target: 3, migrations }), { from: 1, to: 3 });
    assertEquals(ran, [1, 2]);
    assertEquals((await kv.get(["items", "a"])).value, { title: "A" });
    // Already current: nothing runs again.
    await ensureSchema(kv, { target: 3, migrations });
    assertEquals(ran, [1, 2]);
  });
});

Deno.test("ensureSchema() refuses a store newer than this code", async () => {
  await withKv(async (kv) => {
    await kv.set(keys.schemaVersion(), SCHEMA_VERSION + 1);
    await rejects(
      () => ensureSchema(kv),
      (e) => e instanceof SchemaError && e.message.includes("newer than this release"),
    );
    assertEquals((await kv.get(keys.schemaVersion())).value, SCHEMA_VERSION + 1);
  });
});

Deno.test("ensureSchema() names a missing step instead of skipping it", async () => {
  await withKv(async (kv) => {
    await kv.set(keys.schemaVersion(), 1);
    await rejects(
      () => ensureSchema(kv, { target: 2, migrations: [] }),
      (e) => e instanceof SchemaError && e.message.includes("No migration from schema version 1"),
    );
  });
});

Deno.test("a version 1 store's messages (no version field, no index entries) are found by sync", async () => {
  await withKv(async (kv) => {
    await kv.set(keys.schemaVersion(), 1);
    for (let seq = 1; seq <= 250; seq++) {
      await kv.set(keys.message("c1", seq), { id: `m${seq}`, seq, body: `b${seq}` });
    }
    await kv.set(keys.head("c1"), { seq: 250, ts: 0, last: null });
    assertEquals(await ensureSchema(kv), { from: 1, to: SCHEMA_VERSION });
    const { messagesByVersion } = await import("./stream.ts");
    const page = await messagesByVersion(kv, "c1", 240, 100);
    assertEquals(page.messages.map((m) => m.seq), [
      241,
      242,
      243,
      244,
      245,
      246,
      247,
      248,
      249,
      250,
    ]);
  });
});

Deno.test("ensureSchema() gives a version 2 store's users their search words (any word found)", async () => {
  await withKv(async (kv) => {
    // A version 2 store: a user as the code before the word index wrote them.
    await kv.set(keys.schemaVersion(), 2);
    const old = { id: "u-old", username: "grace", displayName: "Grace Hopper", passwordHash: "h" };
    await kv.atomic().set(keys.user(old.id), old).set(keys.userByName(old.username), old.id)
      .commit();
    assertEquals(await searchUsers(kv, "hopper", 20), []);
    assertEquals(await ensureSchema(kv), { from: 2, to: SCHEMA_VERSION });
    assertEquals((await searchUsers(kv, "hopper", 20)).map((u) => u.id), [old.id]);
  });
});
