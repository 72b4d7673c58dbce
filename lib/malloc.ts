/**
 * The allocator setting the server process is started with (scripts/serve.ts, the bench).
 *
 * A password hash (scrypt, N=2^14, r=8) allocates 16 MiB natively. glibc's malloc serves
 * allocations that large by mmap and gives them back on free, but the first such free raises
 * its mmap threshold to that size (the "dynamic threshold"), so every later 16 MiB block comes
 * from a malloc arena instead, one arena per thread that hashed, and arenas keep their high-water
 * mark: after a sign-up burst RSS stayed ~400 MB above idle and never came down (issue 16).
 * Fixing the threshold through the environment turns the dynamic adjustment off: hashes come
 * and go by mmap/munmap, and RSS falls back once the burst is over. Measured with
 * bench/signup_memory.ts (docs/benchmarks.md). 1 MiB keeps ordinary allocations (frames, KV
 * values, upload chunks of 64 KiB) in the arenas, where they were.
 *
 * Terminating Workers does not give the memory back (the arenas outlive their threads), and
 * `malloc_trim` would need FFI, so this is the setting that works; it must be in the
 * environment before the process starts, hence set by whoever starts the server.
 * @module
 */

/** glibc's mmap threshold for the server, in bytes. */
export const MMAP_THRESHOLD_BYTES = 1024 * 1024;

/**
 * The variables to add to a server's environment: the fixed mmap threshold, unless `env`
 * (the operator's environment) sets one already.
 * @example
 * new Deno.Command(Deno.execPath(), { args, env: serverMallocEnv(Deno.env.toObject()) });
 */
export function serverMallocEnv(env: Record<string, string | undefined>): Record<string, string> {
  return env.MALLOC_MMAP_THRESHOLD_ !== undefined
    ? {}
    : { MALLOC_MMAP_THRESHOLD_: String(MMAP_THRESHOLD_BYTES) };
}
