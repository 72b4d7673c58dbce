import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { api, register, startServer, WsClient } from "../helpers/server.ts";

Deno.test("two users in a direct conversation exchange messages both ways in real time", async () => {
  const srv = await startServer();
  try {
    const alice = await register(srv.url);
    const bob = await register(srv.url);
    const created = await api(srv.url, "POST", "/api/conversations", {
      token: alice.accessToken,
      body: { kind: "direct", userId: bob.user.id },
    });
    assertEquals(created.status, 201);
    const convId = created.body.conversation.id;
    const a = await WsClient.connect(srv.wsUrl, alice.accessToken);
    const b = await WsClient.connect(srv.wsUrl, bob.accessToken);
    const ack = await a.sendMessage(convId, "hi bob");
    assertEquals(ack.type, "ack");
    assertEquals(ack.seq, 1);
    const got = await b.next((f) => f.type === "message");
    assertEquals(got.message.body, "hi bob");
    const ack2 = await b.sendMessage(convId, "hi alice");
    assertEquals(ack2.seq, 2);
    const got2 = await a.next((f) => f.type === "message");
    assertEquals(got2.message.body, "hi alice");
    assertEquals(
      a.messages().length,
      1,
      "the sender's own connection does not get its message back",
    );
    await a.close();
    await b.close();
  } finally {
    await srv.close();
  }
});
