/**
 * Raw HTTP/1.1 over TCP, for requests fetch would refuse to send or would tidy up (broken
 * framing, bare NULs in paths, handshakes without their headers).
 */

/** Sends `head` (and `body`) over a fresh TCP connection; returns the status line's code. */
export async function rawRequest(
  port: number,
  head: string,
  body: Uint8Array | string = "",
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const enc = new TextEncoder();
    await conn.write(enc.encode(head.replaceAll("\n", "\r\n") + "\r\n"));
    if (body.length) {
      await conn.write(typeof body === "string" ? enc.encode(body) : body);
      // The peer stops sending: a body cut short ends here instead of waiting for more.
      await conn.closeWrite();
    }
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(16 * 1024);
    const deadline = setTimeout(() => conn.close(), 5000);
    try {
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        chunks.push(buf.slice(0, n));
        const text = new TextDecoder().decode(concat(chunks));
        // One response is enough: stop at the end of its headers plus any declared body.
        const end = text.indexOf("\r\n\r\n");
        if (end >= 0) {
          const len = /content-length:\s*(\d+)/i.exec(text.slice(0, end));
          if (!len || text.length - end - 4 >= Number(len[1])) break;
        }
      }
    } finally {
      clearTimeout(deadline);
    }
    const text = new TextDecoder().decode(concat(chunks));
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text };
  } finally {
    try {
      conn.close();
    } catch { /* closed by the deadline */ }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, (at += c.length) - c.length);
  return out;
}
