/**
 * Helpers for the unit tests beside store and engine modules (never imported by server code).
 * @module
 */

/** Runs `fn` with a fresh in-memory KV and always closes it. */
export async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}
