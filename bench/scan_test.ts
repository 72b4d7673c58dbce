/**
 * The load generator's lean reader (bench/scan.ts) and seq tallies (bench/seqs.ts): the
 * benchmark's lost/duplicate figures are only as good as these, so they must read exactly what
 * `JSON.parse` reads, whatever the server sends.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { type MessageFields, scanFrames, scanMessages, scanMixed } from "./scan.ts";
import { SeqCounts, SeqSet } from "./seqs.ts";
import { unchanged } from "../lib/protocol.ts";

function message(seq: number, body = `t:${1700000000000 + seq}.5|p:1|`) {
  return {
    type: "message",
    message: {
      id: crypto.randomUUID(),
      conversationId: "7d3f0c52-9a43-4c1e-8f61-3b2a1c0d9e8f",
      seq,
      senderId: crypto.randomUUID(),
      kind: "text",
      body,
      ts: 1700000000000 + seq,
    },
  };
}

function read(text: string) {
  const messages: MessageFields[] = [];
  const others: unknown[] = [];
  const order: string[] = [];
  const n = scanFrames(text, {
    message: (m) => {
      const { id, conversationId, seq, senderId, body } = m;
      messages.push({ id, conversationId, seq, senderId, body });
      order.push(`message ${m.seq}`);
    },
    other: (f) => {
      others.push(f);
      order.push(f?.type);
    },
  });
  return { n, messages, others, order };
}

const fields = (f: ReturnType<typeof message>): MessageFields => {
  const { id, conversationId, seq, senderId, body } = f.message;
  return { id, conversationId, seq, senderId, body };
};

Deno.test("scanFrames reads an array of message frames as JSON.parse does, on the fast path", () => {
  const frames = [message(41), message(42), message(43)];
  const text = JSON.stringify(frames);
  const got = read(text);
  assertEquals(got.n, 3);
  assertEquals(got.messages, frames.map(fields));
  assertEquals(got.others, []);
  assertEquals(scanMessages(text)?.length, 3, "the layout both servers write takes the fast path");
});

Deno.test("scanFrames reads a single message frame, not in an array", () => {
  const f = message(7);
  const got = read(JSON.stringify(f));
  assertEquals(got.n, 1);
  assertEquals(got.messages, [fields(f)]);
});

Deno.test("scanFrames keeps the order of mixed frames and parses the others", () => {
  const ack = { type: "ack", id: "a1", conversationId: "c", seq: 9, ts: 1 };
  const presence = { type: "presence", userId: "u", online: true };
  const text = JSON.stringify([message(1), ack, message(2), presence]);
  assertEquals(scanMessages(text), null, "mixed arrays take the JSON.parse path");
  const got = read(text);
  assertEquals(got.n, 4);
  assertEquals(got.order, ["message 1", "ack", "message 2", "presence"]);
  assertEquals(got.others, [ack, presence]);
});

Deno.test("scanFrames unescapes bodies with quotes, backslashes and unicode", () => {
  const tricky = [
    message(5, 't:1|p:1|say "hi"'),
    message(6, "t:2|p:1|back\\slash and \u2028 line"),
    message(7, 't:3|p:1|fake ","seq":99,"senderId":"x'),
  ];
  const got = read(JSON.stringify(tricky));
  assertEquals(got.messages, tricky.map(fields));
});

Deno.test("scanFrames does not depend on key order", () => {
  const f = message(3);
  const m = f.message;
  const reordered = JSON.stringify({
    message: {
      body: m.body,
      seq: m.seq,
      ts: m.ts,
      kind: m.kind,
      senderId: m.senderId,
      id: m.id,
      conversationId: m.conversationId,
    },
    type: "message",
  });
  assertEquals(read(reordered).messages, [fields(f)]);
});

Deno.test("scanFrames delivers nothing from a text that is not JSON", () => {
  const whole = JSON.stringify([message(1), message(2)]);
  const got = read(whole.slice(0, -2));
  assertEquals(got.n, -1);
  assertEquals(got.messages, []);
  assertEquals(got.others, []);
});

Deno.test("SeqSet reports a repeated seq, also after growing below its first seq", () => {
  const seen = new SeqSet();
  assertEquals(seen.add(5000), true);
  assertEquals(seen.add(5000), false);
  assertEquals(seen.add(5001), true);
  assertEquals(seen.add(3), true, "far below the first seq");
  assertEquals(seen.add(3), false);
  assertEquals(seen.add(5000), false, "earlier seqs keep their bits when it grows");
  assertEquals(seen.add(100_000), true);
  assertEquals(seen.add(5001), false);
});

Deno.test("SeqCounts counts per seq in either direction of the first", () => {
  const counts = new SeqCounts();
  for (const seq of [700, 700, 701, 2, 5000, 700]) counts.add(seq);
  assertEquals([...counts.entries()], [[2, 1], [700, 3], [701, 1], [5000, 1]]);
  assertEquals(counts.get(700), 3);
  assertEquals(counts.get(699), 0);
});

/** A message frame as the server writes it since issue 11: the change fields after `ts`. */
function current(seq: number, changes: Record<string, unknown> = {}) {
  const f = message(seq);
  return {
    type: "message",
    message: { ...f.message, ...unchanged(seq), ...changes },
  };
}

Deno.test("scanFrames reads messages with unchanged change fields on the fast path", () => {
  const frames = [current(10), current(11)];
  const text = JSON.stringify(frames);
  assertEquals(scanMessages(text)?.length, 2);
  assertEquals(read(text).messages, frames.map((f) => fields(f as ReturnType<typeof message>)));
  assertEquals(scanMessages(JSON.stringify(current(12)))?.length, 1, "a single frame too");
});

Deno.test("scanFrames reads a changed message (version, reactions) as JSON.parse does", () => {
  const edited = current(20, { version: 25, editedTs: 5 });
  const reacted = current(21, {
    version: 26,
    reactions: [{ emoji: "👍", count: 1, userIds: ["u"] }],
  });
  for (const f of [edited, reacted]) {
    assertEquals(scanMessages(JSON.stringify([f])), null, "not the unchanged layout");
    const got = read(JSON.stringify([current(19), f]));
    assertEquals(got.messages.map((m) => m.seq), [19, f.message.seq]);
  }
});

Deno.test("scanFrames reads arrays of messages and updates frame by frame, in order", () => {
  const update = {
    type: "update",
    conversationId: "c",
    seq: 31,
    message: current(30, { version: 31, reactions: [{ emoji: "🎉", count: 1, userIds: ["u"] }] })
      .message,
  };
  const tricky = { ...update, seq: 33, message: { ...update.message, body: "t:1|p:0|{]}[ ," } };
  const frames = [current(29), update, current(32), tricky];
  const text = JSON.stringify(frames);
  assertEquals(scanMessages(text), null);
  assertEquals(scanMixed(text)?.length, 4, "read frame by frame, brackets in a body skipped");
  const got = read(text);
  assertEquals(got.n, 4);
  assertEquals(got.order, ["message 29", "update", "message 32", "update"]);
  assertEquals(got.others, [update, tricky]);
  // The same with an escape somewhere: the whole text goes through JSON.parse, same result.
  const escaped = [...frames, current(34, { body: 't:2|p:0|say "hi"' })];
  const slow = read(JSON.stringify(escaped));
  assertEquals(slow.order, [...got.order, "message 34"]);
  assertEquals(slow.others, [update, tricky]);
});
