/**
 * A delete erases, it does not hide: after it no KV value holds the body (nor an edited-away
 * body, nor a reply's quote of it, nor the conversation head's copy), the attachment is no longer
 * served, and once the blob sweep runs its bytes are gone too.
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { api, register, startServer } from "../helpers/server.ts";

/** Every value in the store, as text (bytes decoded as Latin-1, so any ASCII shows). */
async function kvText(kv: Deno.Kv): Promise<string> {
  const parts: string[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    const v = e.value;
    if (v instanceof Uint8Array) parts.push(new TextDecoder("latin1").decode(v));
    else if (v instanceof Deno.KvU64) parts.push(String(v.value));
    else parts.push(JSON.stringify(v));
    parts.push(JSON.stringify(e.key));
  }
  return parts.join("\n");
}

Deno.test("a deleted message's body, old edits, quotes and attachment are absent from every KV value", async () => {
  const srv = await startServer();
  try {
    const [ann, bea] = await Promise.all([register(srv.url), register(srv.url)]);
    const g = await api(srv.url, "POST", "/api/conversations", {
      token: ann.accessToken,
      body: { kind: "group", title: "Crew", memberIds: [bea.user.id] },
    });
    const convId = g.body.conversation.id;
    const msgs = `/api/conversations/${convId}/messages`;
    const send = (body: Record<string, unknown>) =>
      api(srv.url, "POST", msgs, {
        token: ann.accessToken,
        body: { id: crypto.randomUUID(), ...body },
      });

    const text = (await send({ body: "FIRST-DRAFT-7f3a" })).body.seq;
    const edited = await api(srv.url, "PATCH", `${msgs}/${text}`, {
      token: ann.accessToken,
      body: { id: crypto.randomUUID(), body: "SECOND-DRAFT-9c1e" },
    });
    eq(edited.status, 201);
    ok(!(await kvText(srv.kv)).includes("FIRST-DRAFT-7f3a"), "an edit keeps no old body");
    const reply = await api(srv.url, "POST", msgs, {
      token: bea.accessToken,
      body: { id: crypto.randomUUID(), body: "answering that", replyTo: text },
    });
    eq(reply.status, 201);
    let page = await api(srv.url, "GET", msgs, { token: bea.accessToken });
    const quoted = page.body.messages.find((m: { seq: number }) => m.seq === reply.body.seq);
    eq(quoted.replyTo, { seq: text, senderId: ann.user.id, excerpt: "SECOND-DRAFT-9c1e" });

    // A file with a caption, the newest message (so the head holds a copy of it).
    const bytes = new TextEncoder().encode("FILE-BYTES-51d0 ".repeat(100));
    const up = await fetch(`${srv.url}/api/conversations/${convId}/attachments?name=notes.txt`, {
      method: "POST",
      headers: { authorization: `Bearer ${ann.accessToken}`, "content-type": "text/plain" },
      body: bytes,
    });
    const { attachment } = await up.json();
    const file = await send({ kind: "file", attachmentId: attachment.id, body: "CAPTION-ab12" });
    eq(file.status, 201);
    const before = await kvText(srv.kv);
    ok(before.includes("SECOND-DRAFT-9c1e") && before.includes("CAPTION-ab12"));
    ok(before.includes("FILE-BYTES-51d0"));

    for (const seq of [text, file.body.seq]) {
      const del = await api(srv.url, "DELETE", `${msgs}/${seq}?id=${crypto.randomUUID()}`, {
        token: ann.accessToken,
      });
      eq(del.status, 201);
    }
    const after = await kvText(srv.kv);
    for (const secret of ["FIRST-DRAFT-7f3a", "SECOND-DRAFT-9c1e", "CAPTION-ab12"]) {
      ok(!after.includes(secret), `${secret} is erased from KV`);
    }
    ok(!after.includes(`["attachments","${attachment.id}"]`), "the attachment's record is gone");
    const download = await fetch(`${srv.url}${attachment.url}`, {
      headers: { authorization: `Bearer ${bea.accessToken}` },
    });
    await download.body?.cancel();
    eq(download.status, 404, "the attachment is no longer served");
    page = await api(srv.url, "GET", msgs, { token: bea.accessToken });
    const byseq = new Map(page.body.messages.map((m: { seq: number }) => [m.seq, m]));
    const shown = byseq.get(file.body.seq) as Record<string, unknown>;
    eq([shown.deleted, shown.body, shown.attachment], [true, "", null]);
    eq((byseq.get(reply.body.seq) as { replyTo: unknown }).replyTo, {
      seq: text,
      senderId: ann.user.id,
      excerpt: "",
    }, "the quote of a deleted message says nothing of it");
    const list = await api(srv.url, "GET", "/api/conversations", { token: bea.accessToken });
    eq(list.body.conversations[0].lastMessage.deleted, true, "the preview stops showing it");

    // The chunks are collected by the sweep, after the delete's commit.
    await srv.rt.attachments.sweep(Date.now() + 1000);
    ok(!(await kvText(srv.kv)).includes("FILE-BYTES-51d0"), "the file's bytes are gone");
  } finally {
    await srv.close();
  }
});
