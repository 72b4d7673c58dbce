/**
 * Password hashing with scrypt from node:crypto: memory-hard, runs off the event loop, and
 * available on Deno Deploy without a native addon.
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const N = 16384, R = 8, P = 1, KEYLEN = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number) {
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEYLEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (
      err,
      key,
    ) => err ? reject(err) : resolve(key))
  );
}

/**
 * Hashes a password into a self-describing string `scrypt$N$r$p$salt$hash`.
 * @example
 * const stored = await hashPassword("correct horse");
 * await verifyPassword("correct horse", stored); // true
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return ["scrypt", N, R, P, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Checks a password against a stored hash in constant time; false on any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  if (expected.length !== KEYLEN || ![n, r, p].every((x) => Number.isSafeInteger(x) && x > 0)) {
    return false;
  }
  // Bad scrypt parameters make node:crypto throw; a malformed hash must just fail to verify.
  const key = await derive(password, salt, n, r, p).catch(() => null);
  return key !== null && key.length === expected.length && timingSafeEqual(key, expected);
}

let dummy: Promise<string> | null = null;

/** Spends the same time as a real verification, so unknown usernames cannot be told apart. */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword("parley-dummy-password");
  await verifyPassword(password, await dummy);
}
