import { deepEqual, ok } from "node:assert/strict";
import { MMAP_THRESHOLD_BYTES, serverMallocEnv } from "./malloc.ts";

Deno.test("serverMallocEnv fixes glibc's mmap threshold unless the operator set one", () => {
  deepEqual(serverMallocEnv({}), { MALLOC_MMAP_THRESHOLD_: String(MMAP_THRESHOLD_BYTES) });
  deepEqual(serverMallocEnv({ MALLOC_MMAP_THRESHOLD_: "65536" }), {});
});

/** RSS growth (MB) of a fresh process after two rounds of four concurrent password hashes. */
async function rssGrowthAfterHashes(env: Record<string, string>): Promise<number> {
  const script = `
    import { hashPassword } from ${
    JSON.stringify(new URL("./auth/password.ts", import.meta.url).href)
  };
    const rss = () => Deno.memoryUsage().rss;
    await hashPassword("warm-up-password");
    const before = rss();
    for (let i = 0; i < 2; i++) {
      await Promise.all([1, 2, 3, 4].map((n) => hashPassword("password-" + n)));
    }
    console.log(JSON.stringify({ growthMb: (rss() - before) / 1048576 }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout).trim()).growthMb;
}

Deno.test({
  name: "with the server's allocator setting, password hashes give their memory back",
  // glibc only: other C libraries have no such variable (and no such threshold).
  ignore: Deno.build.os !== "linux",
  async fn() {
    const growth = await rssGrowthAfterHashes(serverMallocEnv({}));
    // Four hashes in flight hold 64 MiB; kept by the allocator, RSS would stay that much higher.
    ok(growth < 32, `RSS grew ${growth.toFixed(1)} MB after the hashes were done`);
  },
});
