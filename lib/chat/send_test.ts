import type { StreamItem } from "../store/stream.ts";
import { deepStrictEqual as eq, equal, rejects } from "node:assert/strict";
import { AppError } from "../errors.ts";
import type { Message } from "../protocol.ts";
import { createGroup } from "../store/conversations.ts";
import type { LoggedEvent } from "../store/records.ts";
import { withKv } from "../store/testing.ts";
import type { RealtimePort } from "./port.ts";
import { RateLimiter } from "./ratelimit.ts";
import { Sending } from "./send.ts";

/** A port that records what the send path publishes; nobody is subscribed. */
class PortRecorder implements RealtimePort {
  published: string[] = [];
  notes: string[] = [];
  isSubscribed(): boolean {
    return false;
  }
  expectOwn(_convId: string, messageId: string, connId: string): () => void {
    this.notes.push(`${messageId}@${connId}`);
    return () => this.notes.splice(this.notes.indexOf(`${messageId}@${connId}`), 1);
  }
  publishMessages(_convId: string, msgs: Message[]): void {
    for (const m of msgs) this.published.push(m.body);
  }
  publishItems(_convId: string, _items: StreamItem[]): void {}
  publishEvents(_items: LoggedEvent[]): void {}
}

const code = (c: string) => (e: unknown) => e instanceof AppError && e.code === c;

Deno.test("send() stores and publishes once; a resend gets the first ack, marked duplicate", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    const port = new PortRecorder();
    const sending = new Sending(kv, port);
    const first = await sending.send("ann", conv.id, { id: "m1", body: "hello" }, "conn-1");
    equal(first.seq, 2, "after the group's creation (seq 1)");
    equal(first.duplicate, false);
    const again = await sending.send("ann", conv.id, { id: "m1", body: "hello" }, "conn-1");
    eq(again, { ...first, duplicate: true });
    eq(port.published, ["hello"]);
    eq(port.notes, ["m1@conn-1"], "the sending connection is noted once, and kept");
  });
});

Deno.test("send() by a non-member is not_found; an id someone else used is a conflict", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    const sending = new Sending(kv, new PortRecorder());
    await rejects(sending.send("zed", conv.id, { id: "m1", body: "x" }, null), code("not_found"));
    await sending.send("ann", conv.id, { id: "m1", body: "mine" }, null);
    await rejects(sending.send("bea", conv.id, { id: "m1", body: "x" }, null), code("conflict"));
  });
});

Deno.test("past the rate limit a new send is refused with a wait; a resend of a stored id is still acked", async () => {
  await withKv(async (kv) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    // Two sends, then one every 1,000 s: the test never waits long enough for a refill.
    const slow = () => new RateLimiter(2, 0.001);
    const sending = new Sending(kv, new PortRecorder(), slow());
    const first = await sending.send("ann", conv.id, { id: "m1", body: "one" }, null);
    await sending.send("ann", conv.id, { id: "m2", body: "two" }, null);
    await rejects(
      sending.send("ann", conv.id, { id: "m3", body: "three" }, null),
      (e) => code("rate_limited")(e) && ((e as AppError).retryAfterMs ?? 0) > 0,
    );
    // A fresh isolate (no ack cache) with its bucket emptied: the resend is answered from KV.
    const other = new Sending(kv, new PortRecorder(), slow());
    await other.send("ann", conv.id, { id: "n1", body: "x" }, null);
    await other.send("ann", conv.id, { id: "n2", body: "y" }, null);
    eq(await other.send("ann", conv.id, { id: "m1", body: "one" }, null), {
      ...first,
      duplicate: true,
    });
  });
});
