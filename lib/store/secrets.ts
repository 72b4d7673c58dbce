/**
 * Secrets the server generates once and keeps in KV, so every isolate and every restart agrees
 * on them without a hard-coded default.
 * @module
 */
import { keys } from "./keys.ts";
import { retry } from "./kv.ts";

/**
 * The stored JWT signing secret, or `generate()`'s value stored now when there is none yet.
 * When isolates race, the first commit wins and everyone returns the stored value.
 */
export async function storedJwtSecret(kv: Deno.Kv, generate: () => string): Promise<string> {
  const key = keys.jwtSecret();
  const existing = await retry(() => kv.get<string>(key));
  if (existing.value) return existing.value;
  await retry(() => kv.atomic().check({ key, versionstamp: null }).set(key, generate()).commit());
  return (await retry(() => kv.get<string>(key))).value!;
}
