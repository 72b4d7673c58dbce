import { deepStrictEqual as eq } from "node:assert/strict";
import { addMember, createGroup } from "../store/conversations.ts";
import { type StreamItem } from "../store/stream.ts";
import { commitMessages } from "../store/commit.ts";
import { eventsHead, readEvents } from "../store/events.ts";
import type { LoggedEvent } from "../store/records.ts";
import { withKv } from "../store/testing.ts";
import { Broker, type BrokerEventHandler, type PresenceNote } from "./broker.ts";

/** A handler that records, in order, what the broker reported. */
class Recorder implements BrokerEventHandler {
  messages: string[] = [];
  events: string[] = [];
  typing: string[] = [];
  presence: PresenceNote[] = [];
  onMessage({ message: m }: StreamItem) {
    // Group changes (system messages) are stream positions too; these tests follow the texts.
    if (m && m.kind !== "system") this.messages.push(`${m.seq}:${m.body}`);
  }
  onEvent(e: LoggedEvent) {
    this.events.push(`${e.seq}:${e.event.type}`);
  }
  onTyping(convId: string, userId: string) {
    this.typing.push(`${convId}:${userId}`);
  }
  onPresence(note: PresenceNote) {
    this.presence.push(note);
  }
}

const draft = (body: string) => ({
  id: crypto.randomUUID(),
  senderId: "ann",
  kind: "text" as const,
  body,
});

/** Waits until `check` holds (the watch paths are asynchronous), at most ~3 s. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

async function withBroker(
  broadcast: boolean,
  fn: (kv: Deno.Kv, broker: Broker, got: Recorder) => Promise<void>,
): Promise<void> {
  await withKv(async (kv) => {
    const broker = new Broker(kv, broadcast);
    const got = new Recorder();
    broker.register(got);
    await broker.start();
    try {
      await fn(kv, broker, got);
    } finally {
      broker.close();
    }
  });
}

Deno.test("messages published here reach the handler once and in order, repeats and all", async () => {
  await withBroker(false, async (kv, broker, got) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    broker.follow(conv.id);
    await broker.ready(conv.id);
    const { stored } = await commitMessages(kv, conv.id, [
      draft("one"),
      draft("two"),
      draft("three"),
    ]);
    // Out of order and twice, as the channel and the local commit may hand them over.
    broker.publishMessages(conv.id, [stored[1]]);
    broker.publishMessages(conv.id, [stored[0], stored[2]]);
    broker.publishMessages(conv.id, stored);
    await until(() => got.messages.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    // After the group's creation (seq 1, a system message this recorder leaves out).
    eq(got.messages, ["2:one", "3:two", "4:three"]);
  });
});

Deno.test("a message committed elsewhere arrives by the head watch, with the channel off", async () => {
  await withBroker(false, async (kv, broker, got) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    broker.follow(conv.id);
    await broker.ready(conv.id);
    // Another isolate commits: nothing is published to this broker.
    await commitMessages(kv, conv.id, [draft("from afar"), draft("and again")]);
    await until(() => got.messages.length >= 2);
    eq(got.messages, ["2:from afar", "3:and again"]);
  });
});

Deno.test("an unfollowed conversation delivers nothing more", async () => {
  await withBroker(false, async (kv, broker, got) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    broker.follow(conv.id);
    await broker.ready(conv.id);
    broker.unfollow(conv.id);
    const { stored } = await commitMessages(kv, conv.id, [draft("unheard")]);
    broker.publishMessages(conv.id, stored);
    await new Promise((r) => setTimeout(r, 200));
    eq(got.messages, []);
  });
});

/** Every event of the log, as the recorder writes them. */
async function logged(kv: Deno.Kv): Promise<string[]> {
  const all = await readEvents(kv, 0, await eventsHead(kv));
  return all.map((e) => `${e.seq}:${e.event.type}`);
}

Deno.test("a membership event published here is reported at once, and not again by the log", async () => {
  await withBroker(false, async (kv, broker, got) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    const added = await addMember(kv, conv.id, "cid");
    broker.publishEvents(added!);
    eq(got.events.at(-1), `${added![0].seq}:member_added`, "reported before publishEvents returns");
    const want = await logged(kv);
    await until(() => got.events.length >= want.length);
    await new Promise((r) => setTimeout(r, 100)); // time for a second report, were there one
    eq(got.events.toSorted(), want.toSorted(), "each event once");
  });
});

Deno.test("events appended elsewhere arrive through the log's watch, in order", async () => {
  await withBroker(false, async (kv, _broker, got) => {
    const conv = await createGroup(kv, "ann", "Team", ["bea"]);
    await addMember(kv, conv.id, "cid");
    await addMember(kv, conv.id, "dan");
    const want = await logged(kv);
    await until(() => got.events.length >= want.length);
    eq(got.events, want);
  });
});

Deno.test("typing and presence cross to another broker by the channel", async () => {
  await withKv(async (kv) => {
    const here = new Broker(kv, true);
    const there = new Broker(kv, true);
    const got = new Recorder();
    there.register(got);
    here.register(new Recorder());
    await Promise.all([here.start(), there.start()]);
    try {
      here.publishTyping("c1", "ann");
      here.publishPresence({ userId: "ann", online: true, lastSeen: null, convIds: ["c1"] });
      await until(() => got.presence.length > 0);
      eq(got.typing, ["c1:ann"]);
      eq(
        got.presence.map(({ userId, online, lastSeen, convIds }) => ({
          userId,
          online,
          lastSeen,
          convIds,
        })),
        [{ userId: "ann", online: true, lastSeen: null, convIds: ["c1"] }],
      );
    } finally {
      here.close();
      there.close();
    }
  });
});
