// deno-lint-ignore-file no-explicit-any
/**
 * Messages that carry attachments, over the real socket and HTTP: the message holds the
 * attachment, the claim is exclusive, and the contract's refusals hold.
 */
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { sampleImages } from "../../lib/attachments/testing.ts";
import { api, directPair, register, withServer, WsClient } from "../helpers/server.ts";

async function upload(
  base: string,
  token: string,
  convId: string,
  name: string,
  bytes: Uint8Array,
) {
  const res = await fetch(
    `${base}/api/conversations/${convId}/attachments?name=${encodeURIComponent(name)}`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/pdf" },
      body: bytes as Uint8Array<ArrayBuffer>,
    },
  );
  const body = await res.json();
  if (res.status !== 201) throw new Error(`upload ${res.status} ${JSON.stringify(body)}`);
  return body.attachment;
}

async function sendFrame(ws: WsClient, frame: Record<string, unknown>) {
  const id = (frame.id as string) ?? crypto.randomUUID();
  const from = ws.frames.length;
  ws.send({ type: "send", id, ...frame });
  return await ws.next(
    (f) => (f.type === "ack" || f.type === "error") && f.id === id,
    10_000,
    from,
  );
}

Deno.test("an image sent over the socket reaches the other member with its attachment and caption", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const [wa, wb] = await Promise.all([
      WsClient.connect(srv.wsUrl, alice.accessToken),
      WsClient.connect(srv.wsUrl, bob.accessToken),
    ]);
    try {
      const img = await sampleImages(1200, 800);
      const att = await upload(srv.url, alice.accessToken, convId, "beach.jpg", img.jpeg);
      const ack = await sendFrame(wa, {
        conversationId: convId,
        kind: "image",
        attachmentId: att.id,
        body: "the beach",
      });
      equal(ack.type, "ack", JSON.stringify(ack));
      const got = await wb.next((f) => f.type === "message" && f.message.seq === ack.seq);
      eq(
        { kind: got.message.kind, body: got.message.body, attachment: got.message.attachment },
        { kind: "image", body: "the beach", attachment: att },
      );
      // A caption is optional.
      const file = await upload(srv.url, alice.accessToken, convId, "notes.pdf", new Uint8Array(9));
      const ack2 = await sendFrame(wa, {
        conversationId: convId,
        kind: "file",
        attachmentId: file.id,
      });
      equal(ack2.type, "ack", JSON.stringify(ack2));
      const m2 = await wb.next((f) => f.type === "message" && f.message.seq === ack2.seq);
      eq([m2.message.body, m2.message.attachment.name], ["", "notes.pdf"]);
      // History and the conversation list carry it too.
      const hist = await api(srv.url, "GET", `/api/conversations/${convId}/messages`, {
        token: bob.accessToken,
      });
      eq(hist.body.messages.map((m: any) => m.attachment?.id ?? null), [att.id, file.id]);
      const list = await api(srv.url, "GET", "/api/conversations", { token: bob.accessToken });
      equal(list.body.conversations[0].lastMessage.attachment.name, "notes.pdf");
      // A sent attachment is not swept as unreferenced.
      await srv.rt.attachments.sweep(Date.now() + 25 * 3600_000);
      const dl = await fetch(srv.url + att.url, {
        headers: { authorization: `Bearer ${bob.accessToken}` },
      });
      equal(dl.status, 200);
      await dl.body?.cancel();
    } finally {
      await Promise.all([wa.close(), wb.close()]);
    }
  });
});

Deno.test("a file sent over HTTP is idempotent by id like any send", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const att = await upload(srv.url, alice.accessToken, convId, "a.pdf", new Uint8Array(3));
    const body = { id: "m1", kind: "file", attachmentId: att.id, body: "see attached" };
    const first = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
      token: alice.accessToken,
      body,
    });
    equal(first.status, 201, JSON.stringify(first.body));
    const again = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
      token: alice.accessToken,
      body,
    });
    eq([again.status, again.body.seq], [200, first.body.seq]);
  });
});

Deno.test("send refuses another user's attachment, another conversation's, and one already sent", async () => {
  await withServer(async (srv) => {
    const { alice, bob, convId } = await directPair(srv.url);
    const carol = await register(srv.url);
    const other = await api(srv.url, "POST", "/api/conversations", {
      token: alice.accessToken,
      body: { kind: "direct", userId: carol.user.id },
    });
    const otherConv = other.body.conversation.id;
    const [wa, wb] = await Promise.all([
      WsClient.connect(srv.wsUrl, alice.accessToken),
      WsClient.connect(srv.wsUrl, bob.accessToken),
    ]);
    try {
      const att = await upload(srv.url, alice.accessToken, convId, "a.pdf", new Uint8Array(5));
      const refusal = async (
        ws: WsClient,
        frame: Record<string, unknown>,
        field = "attachmentId",
      ) => {
        const res = await sendFrame(ws, frame);
        eq([res.type, res.error?.code, res.error?.field], ["error", "invalid_input", field]);
        ok(res.error.message.length > 10);
      };
      // Bob may not send Alice's upload.
      await refusal(wb, { conversationId: convId, kind: "file", attachmentId: att.id });
      // Alice may not send it into another conversation.
      await refusal(wa, { conversationId: otherConv, kind: "file", attachmentId: att.id });
      // An unknown id.
      await refusal(wa, { conversationId: convId, kind: "file", attachmentId: "no-such-upload" });
      // A file is not an image.
      await refusal(wa, { conversationId: convId, kind: "image", attachmentId: att.id }, "kind");
      // Sent once...
      const ok1 = await sendFrame(wa, {
        conversationId: convId,
        kind: "file",
        attachmentId: att.id,
      });
      equal(ok1.type, "ack");
      // ...and not again under another id.
      await refusal(wa, { conversationId: convId, kind: "file", attachmentId: att.id });
      // A missing attachmentId on an attachment kind, and an attachment on a text message.
      await refusal(wa, { conversationId: convId, kind: "file" });
      const text = await sendFrame(wa, {
        conversationId: convId,
        kind: "text",
        body: "hi",
        attachmentId: att.id,
      });
      eq([text.type, text.error?.field], ["error", "attachmentId"]);
      // None of the refusals took a seq: the next message follows the one file.
      const next = await sendFrame(wa, { conversationId: convId, body: "after" });
      equal(next.seq, ok1.seq + 1);
      // Over HTTP the same refusal is a 400 naming the field.
      const http = await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
        token: bob.accessToken,
        body: { id: "x", kind: "file", attachmentId: att.id },
      });
      eq([http.status, http.body.error.field], [400, "attachmentId"]);
    } finally {
      await Promise.all([wa.close(), wb.close()]);
    }
  });
});

Deno.test("two sends racing for one attachment: exactly one is stored", async () => {
  await withServer(async (srv) => {
    const { alice, convId } = await directPair(srv.url);
    const att = await upload(srv.url, alice.accessToken, convId, "a.pdf", new Uint8Array(5));
    const results = await Promise.all(
      Array.from(
        { length: 5 },
        (_, i) =>
          api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
            token: alice.accessToken,
            body: { id: `race-${i}`, kind: "file", attachmentId: att.id },
          }),
      ),
    );
    eq(results.map((r) => r.status).sort(), [201, 400, 400, 400, 400]);
    const hist = await api(srv.url, "GET", `/api/conversations/${convId}/messages`, {
      token: alice.accessToken,
    });
    equal(hist.body.messages.filter((m: any) => m.attachment?.id === att.id).length, 1);
  });
});
