/**
 * Deleting a message erases its attachment's bytes (contract parts B and F): the manifests go in
 * the delete's commit, so neither the file nor its preview is ever served again (404 at once),
 * and the blob store's next sweep deletes the chunks: afterwards no KV value holds any of the
 * bytes, and `parley_attachment_bytes` is back where it started.
 */
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { sampleImages } from "../../lib/attachments/testing.ts";
import { CHUNK_BYTES } from "../../lib/store/blobs.ts";
import { keys } from "../../lib/store/keys.ts";
import { readBlobBytes } from "../../lib/store/metrics.ts";
import type { AttachmentRecord } from "../../lib/store/attachments.ts";
import type { Attachment, Message } from "../../lib/protocol.ts";
import { api, directPair, withServer } from "../helpers/server.ts";

async function upload(url: string, token: string, convId: string, name: string, body: Uint8Array) {
  const res = await fetch(
    `${url}/api/conversations/${convId}/attachments?name=${encodeURIComponent(name)}`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: body as Uint8Array<ArrayBuffer>,
    },
  );
  equal(res.status, 201, await res.clone().text());
  return (await res.json()).attachment as Attachment;
}

async function get(url: string, token: string, path: string) {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let at = 0; at < n; at += 65_536) crypto.getRandomValues(b.subarray(at, at + 65_536));
  return b;
}

/**
 * Pieces of `bytes` that lie inside one chunk each (at 100 past every chunk start), so that
 * wherever the blob store keeps them, each piece is contiguous in some stored value.
 */
function probes(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 100; at + 256 <= bytes.length; at += CHUNK_BYTES) {
    out.push(bytes.subarray(at, at + 256));
  }
  ok(out.length > 0, "a file big enough to probe");
  return out;
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0];
  for (
    let i = hay.indexOf(first);
    i >= 0 && i + needle.length <= hay.length;
    i = hay.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}

/** How many of `needles` some binary KV value holds. */
async function foundInKv(kv: Deno.Kv, needles: Uint8Array[]): Promise<number> {
  const found = new Set<number>();
  for await (const e of kv.list({ prefix: [] })) {
    if (!(e.value instanceof Uint8Array)) continue;
    needles.forEach((n, i) => {
      if (!found.has(i) && contains(e.value as Uint8Array, n)) found.add(i);
    });
  }
  return found.size;
}

async function keysUnder(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix })) n++;
  return n;
}

Deno.test("deleting an image or a file message erases its bytes: 404 at once, nothing left after the sweep", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const before = await readBlobBytes(srv.kv);
    const photo = (await sampleImages(1600, 900)).png; // over 720 px: it gets a preview
    const file = randomBytes(300_000);
    const sent: { att: Attachment; rec: AttachmentRecord; seq: number; needles: Uint8Array[] }[] =
      [];
    for (
      const [name, bytes, kind] of [["roof.png", photo, "image"], [
        "data.bin",
        file,
        "file",
      ]] as const
    ) {
      const att = await upload(srv.url, alice.accessToken, convId, name, bytes);
      const res = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
        token: alice.accessToken,
        body: { id: crypto.randomUUID(), kind, attachmentId: att.id, body: `caption of ${name}` },
      });
      equal(res.status, 201, JSON.stringify(res.body));
      const rec = (await srv.kv.get<AttachmentRecord>(keys.attachment(att.id))).value!;
      const needles = probes(bytes);
      // Bob can fetch both (and the photo's preview), byte-exact.
      eq((await get(srv.url, bob.accessToken, att.url)).bytes, bytes);
      if (rec.preview) {
        const preview = await get(srv.url, bob.accessToken, `${att.url}/preview`);
        equal(preview.status, 200);
        needles.push(...probes(preview.bytes));
      }
      equal(await foundInKv(srv.kv, needles), needles.length, `${name}: its bytes are stored`);
      sent.push({ att, rec, seq: res.body.seq, needles });
    }
    ok(sent[0].rec.preview, "the photo has a preview blob");
    ok((await readBlobBytes(srv.kv)) > before + photo.length + file.length);

    for (const { att, seq } of sent) {
      const del = await api(
        srv.url,
        "DELETE",
        `/api/conversations/${convId}/messages/${seq}?id=${crypto.randomUUID()}`,
        { token: alice.accessToken },
      );
      equal(del.status, 201, JSON.stringify(del.body));
      // Never served again, to anyone, from the moment the delete is acked.
      for (const token of [alice.accessToken, bob.accessToken]) {
        equal((await get(srv.url, token, att.url)).status, 404);
        equal((await get(srv.url, token, `${att.url}/preview`)).status, 404);
      }
    }
    const history = await api(srv.url, "GET", `/api/conversations/${convId}/messages`, {
      token: bob.accessToken,
    });
    for (const { seq } of sent) {
      const m = history.body.messages.find((x: Message) => x.seq === seq);
      eq([m.deleted, m.body, m.attachment], [true, "", null]);
    }

    // The chunks go at the sweep (every isolate runs one every 10 minutes; here, now).
    await srv.rt.attachments.sweep();
    for (const { rec, needles } of sent) {
      for (const blobId of [rec.blobId, rec.preview?.blobId].filter((x): x is string => !!x)) {
        equal(await keysUnder(srv.kv, keys.blobChunksOf(blobId)), 0, "no chunk left");
        equal((await srv.kv.get(keys.blobManifest(blobId))).value, null, "no manifest left");
      }
      equal((await srv.kv.get(keys.attachment(rec.id))).value, null, "no attachment record");
      equal(await foundInKv(srv.kv, needles), 0, `none of ${rec.name}'s bytes anywhere in KV`);
    }
    equal(await readBlobBytes(srv.kv), before, "parley_attachment_bytes is back where it was");
  });
});
