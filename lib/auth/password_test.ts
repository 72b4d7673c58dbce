import { equal, notEqual, ok } from "node:assert/strict";
import { hashPassword, verifyPassword } from "./password.ts";

Deno.test("hashPassword stores a salted hash that verifies only the right password", async () => {
  const stored = await hashPassword("correct horse battery");
  notEqual(stored, "correct horse battery");
  ok(!stored.includes("correct horse battery"));
  equal(await verifyPassword("correct horse battery", stored), true);
  equal(await verifyPassword("correct horse battery!", stored), false);
  equal(await verifyPassword("", stored), false);
});

Deno.test("hashPassword gives two different hashes for one password (random salt)", async () => {
  const [a, b] = await Promise.all([hashPassword("same password"), hashPassword("same password")]);
  notEqual(a, b);
  equal(await verifyPassword("same password", a), true);
  equal(await verifyPassword("same password", b), true);
});

Deno.test("verifyPassword answers false, never throws, for a malformed stored hash", async () => {
  const good = await hashPassword("password123");
  const parts = good.split("$");
  const malformed = [
    "",
    "password123",
    "bcrypt$10$abc",
    "scrypt$16384$8$1$onlyfive",
    ["argon2", ...parts.slice(1)].join("$"),
    ["scrypt", "abc", "8", "1", parts[4], parts[5]].join("$"),
    ["scrypt", "3", "8", "1", parts[4], parts[5]].join("$"),
    ["scrypt", "16384", "0", "1", parts[4], parts[5]].join("$"),
    ["scrypt", "16384", "8", "1", parts[4], "!!!"].join("$"),
    ["scrypt", "16384", "8", "1", parts[4], ""].join("$"),
    good + "$extra",
  ];
  for (const stored of malformed) {
    equal(await verifyPassword("password123", stored), false, JSON.stringify(stored));
  }
});
