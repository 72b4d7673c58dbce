/**
 * Cross-isolate delivery: the real server under `deno serve --parallel` (one isolate per core,
 * at least 2), on a shared KV file, with clients spread over the isolates; once with
 * BroadcastChannel and once with it switched off (KV watch alone).
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { startParallel } from "../helpers/parallel.ts";
import { type Account, api, register, WsClient } from "../helpers/server.ts";

/** Two isolates; `connectOn` keeps opening sockets of one user until one lands on the wanted
 * isolate, hence the raised per-user socket cap. */
const startCluster = (broadcast: boolean) =>
  startParallel({ BROADCAST: broadcast ? "on" : "off", MAX_SOCKETS_PER_USER: "200" });

const isolateOf = (c: WsClient) => c.ready.connectionId.split(".")[0];

/** Opens connections for a user until one lands on the wanted isolate (or any, if none wanted). */
async function connectOn(wsUrl: string, token: string, want: string | null, opened: WsClient[]) {
  for (let i = 0; i < 60; i++) {
    const c = await WsClient.connect(wsUrl, token);
    opened.push(c);
    if (!want || isolateOf(c) === want) return c;
  }
  throw new Error(`could not reach isolate ${want}`);
}

for (const broadcast of [true, false]) {
  Deno.test({
    name:
      `deno serve --parallel: messages, receipts, membership and revocation cross isolates (BroadcastChannel ${
        broadcast ? "on" : "off"
      })`,
    sanitizeResources: false,
    fn: async () => {
      const srv = await startCluster(broadcast);
      const opened: WsClient[] = [];
      let stopped = false;
      try {
        const people: Account[] = [];
        for (let i = 0; i < 6; i++) people.push(await register(srv.url));
        const g = await api(srv.url, "POST", "/api/conversations", {
          token: people[0].accessToken,
          body: {
            kind: "group",
            title: "Spread",
            memberIds: people.slice(1, 5).map((p) => p.user.id),
          },
        });
        eq(g.status, 201);
        const convId = g.body.conversation.id;
        // The sender sits on one isolate; receivers are placed on both, at least one on the other.
        const sender = await connectOn(srv.wsUrl, people[0].accessToken, null, opened);
        const home = isolateOf(sender);
        const probe = await connectOn(srv.wsUrl, people[1].accessToken, null, opened);
        const isolates = new Set([home, isolateOf(probe)]);
        let other = isolateOf(probe) !== home ? isolateOf(probe) : null;
        for (let i = 0; !other && i < 60; i++) {
          const c = await WsClient.connect(srv.wsUrl, people[1].accessToken);
          opened.push(c);
          if (isolateOf(c) !== home) other = isolateOf(c);
        }
        ok(other, "connections reached a second isolate");
        isolates.add(other!);
        eq(isolates.size, 2);
        const receivers = [
          await connectOn(srv.wsUrl, people[1].accessToken, other, opened),
          await connectOn(srv.wsUrl, people[2].accessToken, other, opened),
          await connectOn(srv.wsUrl, people[3].accessToken, home, opened),
          await connectOn(srv.wsUrl, people[4].accessToken, other, opened),
        ];
        ok(receivers.some((r) => isolateOf(r) !== home));
        const total = 60;
        for (let i = 0; i < total; i++) {
          // seq 1 is the group's creation (a system message).
          eq((await sender.sendAcked(convId, `cross ${i}`)).seq, i + 2);
        }
        for (const r of receivers) {
          const got = await r.waitCount(
            (f) => f.type === "message" && f.message.conversationId === convId,
            total,
            15_000,
          );
          eq(
            got.map((f) => f.message.seq),
            Array.from({ length: total }, (_, i) => i + 2),
            `receiver on ${isolateOf(r)}`,
          );
        }
        // A receipt from the other isolate reaches the sender's.
        const reader = receivers.find((r) => isolateOf(r) === other)!;
        reader.send({ type: "read", conversationId: convId, seq: total + 1 });
        const receipt = await sender.next((f) => f.type === "receipt", 8000);
        eq(receipt.seq, total + 1);
        // Adding a member announced on one isolate reaches their socket on the other.
        const newcomer = await connectOn(srv.wsUrl, people[5].accessToken, other, opened);
        const add = await api(srv.url, "POST", `/api/conversations/${convId}/members`, {
          token: people[0].accessToken,
          body: { userId: people[5].user.id },
        });
        eq(add.status, 204);
        eq((await newcomer.next((f) => f.type === "conversation", 8000)).conversation.id, convId);
        const more = await sender.sendAcked(convId, "welcome");
        // (The newcomer may also hear the "added" system message before it.)
        const welcome = await newcomer.next(
          (f) => f.type === "message" && f.message.kind !== "system",
          8000,
        );
        eq(welcome.message.seq, more.seq);
        // Logging out closes that session's sockets on every isolate with 4001.
        const login = await api(srv.url, "POST", "/api/auth/login", {
          body: { username: people[2].user.username, password: "password123" },
        });
        const onHome = await connectOn(srv.wsUrl, login.body.accessToken, home, opened);
        const onOther = await connectOn(srv.wsUrl, login.body.accessToken, other, opened);
        const out = await api(srv.url, "POST", "/api/auth/logout", {
          token: login.body.accessToken,
        });
        eq(out.status, 204);
        const timeout = new Promise<{ code: number }>((r) =>
          setTimeout(() => r({ code: -1 }), 5000)
        );
        eq((await Promise.race([onHome.closed, timeout])).code, 4001);
        eq((await Promise.race([onOther.closed, timeout])).code, 4001);
        // SIGTERM: every isolate closes its sockets with 1001 (clients reconnect) and exits.
        const lastOnHome = await connectOn(srv.wsUrl, people[0].accessToken, home, opened);
        const lastOnOther = await connectOn(srv.wsUrl, people[1].accessToken, other, opened);
        stopped = true;
        const status = await srv.stop();
        eq(status.success, true, "the server exits cleanly on SIGTERM");
        eq((await lastOnHome.closed).code, 1001);
        eq((await lastOnOther.closed).code, 1001);
      } finally {
        await Promise.all(opened.map((c) => c.close()));
        if (!stopped) await srv.stop();
      }
    },
  });
}
