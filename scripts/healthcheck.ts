/**
 * The container's HEALTHCHECK: exits 0 when `/health` on this machine answers 200. The runtime
 * image has no curl; this needs only the deno binary already there.
 * @module
 */
const port = Deno.env.get("PORT") || "8000";
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, {
    signal: AbortSignal.timeout(2500),
  });
  await res.body?.cancel();
  Deno.exit(res.ok ? 0 : 1);
} catch {
  Deno.exit(1);
}
