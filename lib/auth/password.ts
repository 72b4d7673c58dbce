/**
 * Password hashing with scrypt from node:crypto: memory-hard, runs off the event loop, and
 * available on Deno Deploy without a native addon.
 *
 * Parameters: OWASP's scrypt row N=2^14, r=8, p=5. It keeps today's 16 MiB per hash (128·N·r;
 * p adds time, not memory), where N=2^17 would take 128 MiB per hash. Hashes with other
 * parameters still verify and are replaced at the owner's next sign-in (`needsRehash`).
 * At most `HASH_CONCURRENCY` hashes run at once per isolate, so a burst of sign-ins queues
 * instead of multiplying memory and threads.
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { Semaphore } from "../semaphore.ts";

const N = 16384, R = 8, P = 5, KEYLEN = 32;

/** Hashes one isolate runs at once (16 MiB each); more wait in arrival order. */
export const HASH_CONCURRENCY = 4;
const hashes = new Semaphore(HASH_CONCURRENCY);

/** Hashes running right now in this isolate. */
export function hashesInFlight(): number {
  return hashes.active;
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number) {
  return hashes.run(() =>
    new Promise<Buffer>((resolve, reject) =>
      scrypt(
        password.normalize("NFKC"),
        salt,
        KEYLEN,
        { N: n, r, p, maxmem: 64 * 1024 * 1024 },
        (err, key) => err ? reject(err) : resolve(key),
      )
    )
  );
}

/** True when `stored` was not written with today's parameters: hash it again at sign-in. */
export function needsRehash(stored: string): boolean {
  const parts = stored.split("$");
  return parts.length !== 6 || parts[0] !== "scrypt" ||
    parts.slice(1, 4).join("$") !== [N, R, P].join("$");
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
