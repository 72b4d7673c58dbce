/**
 * The load generator's own hot path (bench/worker.ts): reading delivered batches and counting
 * them per receiving client. 50 clients each read the same 300 arrays of 10 `message` frames
 * (150,000 deliveries per iteration). Baseline: how the generator did it before (`JSON.parse`,
 * then maps keyed by message id); then `JSON.parse` with the seq tallies it uses now; then the
 * lean reader (bench/scan.ts) with those tallies, which is what it runs.
 * @module
 */
import { type MessageFields, scanFrames } from "../scan.ts";
import { SeqCounts, SeqSet } from "../seqs.ts";

const conv = crypto.randomUUID();
const CLIENTS = 50;
let seq = 1;
const batches = Array.from({ length: 300 }, () =>
  JSON.stringify(Array.from({ length: 10 }, () => ({
    type: "message",
    message: {
      id: crypto.randomUUID(),
      conversationId: conv,
      seq: seq++,
      senderId: crypto.randomUUID(),
      kind: "text",
      body: `t:${Date.now() + 0.25}|p:1|`,
      ts: Date.now(),
    },
  }))));

let sink = 0;
const timeOf = (body: string) => {
  const bar = body.indexOf("|p:");
  return Number(body.slice(2, bar)) + parseInt(body.slice(bar + 3), 10);
};

Deno.bench({
  name: "before: JSON.parse, counted by message id",
  group: "generator",
  baseline: true,
  fn() {
    const ids = new Map<string, number>();
    const own = new Map<string, number>();
    let recv = new Uint32Array(1024);
    for (let c = 0; c < CLIENTS; c++) {
      let seen = new Uint8Array(0);
      for (const text of batches) {
        for (const f of JSON.parse(text)) {
          const m = f.message;
          sink += timeOf(m.body);
          if (own.get(m.id) === c) continue;
          let i = ids.get(m.id);
          if (i === undefined) {
            ids.set(m.id, i = ids.size);
            if (i >= recv.length) {
              const grown = new Uint32Array(recv.length * 2);
              grown.set(recv);
              recv = grown;
            }
          }
          const byte = i >> 3, bit = 1 << (i & 7);
          if (byte >= seen.length) {
            const grown = new Uint8Array(Math.max(byte + 1, seen.length * 2, 256));
            grown.set(seen);
            seen = grown;
          }
          if (seen[byte] & bit) continue;
          seen[byte] |= bit;
          recv[i]++;
        }
      }
    }
  },
});

function tallied(read: (text: string, on: (m: MessageFields) => void) => void) {
  const counts = new SeqCounts();
  for (let c = 0; c < CLIENTS; c++) {
    const seen = new SeqSet();
    const me = `user-${c}`;
    for (const text of batches) {
      read(text, (m) => {
        sink += timeOf(m.body);
        if (m.senderId === me || m.conversationId !== conv) return;
        if (seen.add(m.seq)) counts.add(m.seq);
      });
    }
  }
}

Deno.bench({
  name: "JSON.parse, counted by seq",
  group: "generator",
  fn() {
    tallied((text, on) => {
      for (const f of JSON.parse(text)) on(f.message);
    });
  },
});

Deno.bench({
  name: "scanFrames, counted by seq (what bench/worker.ts runs)",
  group: "generator",
  fn() {
    tallied((text, on) => scanFrames(text, { message: on, other: () => {} }));
  },
});

globalThis.addEventListener("unload", () => void sink);
