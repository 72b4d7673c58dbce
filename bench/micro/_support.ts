/**
 * Shared pieces of the micro-benchmarks (not a bench file itself: its name does not end in
 * `_bench`): KV handles that clean up after themselves, a stand-in socket, message factories
 * and a tiny seeded PRNG so runs are repeatable.
 * @module
 */
import { type Message, unchanged } from "../../lib/protocol.ts";
import { keys } from "../../lib/store/keys.ts";
import type { Draft, Head } from "../../lib/store/messages.ts";
import { commitMessages } from "../../lib/store/commit.ts";
import { createDirect } from "../../lib/store/conversations.ts";

/** A KV handle plus how to dispose of it (and of its temporary directory, for a file KV). */
export interface BenchKv {
  kv: Deno.Kv;
  label: ":memory:" | "file";
  path: string | null;
  close(): void;
}

/** Opens `:memory:` KV, or a fresh SQLite-backed KV file in a temporary directory. */
export async function openBenchKv(kind: ":memory:" | "file"): Promise<BenchKv> {
  if (kind === ":memory:") {
    const kv = await Deno.openKv(":memory:");
    return { kv, label: kind, path: null, close: () => kv.close() };
  }
  const dir = await Deno.makeTempDir({ prefix: "parley-micro-" });
  const path = `${dir}/bench.kv`;
  const kv = await Deno.openKv(path);
  let closed = false;
  return {
    kv,
    label: kind,
    path,
    close() {
      if (closed) return;
      closed = true;
      try {
        kv.close();
      } catch { /* already closed */ }
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/** Runs `fn` once when the bench process ends (the brief: close KV and runtimes). */
export function atExit(fn: () => void | Promise<void>): void {
  globalThis.addEventListener("unload", () => {
    // unload handlers cannot await; everything closed here is synchronous or fire-and-forget.
    void fn();
  });
}

/**
 * STAND-IN for a Deno WebSocket: just enough of the WebSocket surface for `WsConnection`
 * (`readyState`, `bufferedAmount`, `send`, `close`). `send` only counts frames and bytes, so
 * a benchmark measures our serialization/queueing work and not the kernel's.
 */
export class CountingSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  frames = 0;
  chars = 0;
  send(data: string): void {
    this.frames++;
    this.chars += data.length;
  }
  close(): void {
    this.readyState = WebSocket.CLOSED;
  }
}

/** Deterministic PRNG (mulberry32) for reproducible "random" seqs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A body of exactly `n` UTF-16 units that looks like chat text. */
export function body(n: number): string {
  const words = "the quick brown fox jumps over a lazy dog and then sends a message ";
  return words.repeat(Math.ceil(n / words.length)).slice(0, n);
}

let draftCounter = 0;

/** `n` drafts with fresh ids, from `senders` distinct senders, each body `bodyLen` long. */
export function drafts(n: number, bodyLen = 200, senders = 8): Draft[] {
  const b = body(bodyLen);
  const out: Draft[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      id: `d${(++draftCounter).toString(36)}-${i}`,
      senderId: `sender-${i % senders}`,
      kind: "text",
      body: b,
    };
  }
  return out;
}

/** Creates an empty conversation head directly (what createGroup writes), returns its id. */
export async function seedHead(kv: Deno.Kv, convId = crypto.randomUUID()): Promise<string> {
  await kv.set(keys.head(convId), { seq: 0, ts: Date.now(), last: null } satisfies Head);
  return convId;
}

/** `n` direct conversations of two new users each, with `history` messages in each. */
export async function seedDirects(
  kv: Deno.Kv,
  n: number,
  history: number,
): Promise<{ convId: string; users: [string, string] }[]> {
  const out: { convId: string; users: [string, string] }[] = [];
  for (let i = 0; i < n; i++) {
    const users: [string, string] = [crypto.randomUUID(), crypto.randomUUID()];
    const { conversation } = await createDirect(kv, users[0], users[1]);
    const ds = drafts(history, 40).map((d, j) => ({ ...d, senderId: users[j % 2] }));
    await commitMessages(kv, conversation.id, ds);
    out.push({ convId: conversation.id, users });
  }
  return out;
}

/** A typical stored message (UUIDs as production makes them), body `bodyLen` long. */
export function sampleMessage(seq = 1, bodyLen = 200): Message {
  return {
    id: crypto.randomUUID(),
    conversationId: crypto.randomUUID(),
    seq,
    senderId: crypto.randomUUID(),
    kind: "text",
    body: body(bodyLen),
    ...unchanged(seq),
    ts: Date.now(),
  };
}

/** Median of a list of numbers (the list is sorted in place). */
export function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}
