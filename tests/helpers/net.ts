/** What tests that launch the server as a child process share. */

/** The project root, the working directory of a launched server. */
export const root = new URL("../../", import.meta.url).pathname;

/** A port that was free a moment ago, for a child process that cannot listen on port 0. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
