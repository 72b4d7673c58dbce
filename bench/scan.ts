/**
 * A lean reader for what the server sends, for the generator's hot path. At 500,000
 * deliveries a second `JSON.parse` alone took a quarter of the generator's core, so texts made
 * only of `message` frames laid out exactly as both servers write them (keys in the order of
 * `Message` in lib/protocol.ts) are read with a forward-only scan that pulls out the fields the
 * generator counts; anything else, or any deviation from that layout, is read with
 * `JSON.parse` instead. The scan checks every separator it steps over, so it accepts nothing
 * that is not that layout, and a text with an escape anywhere goes the slow way too.
 * @module
 */

/** The fields of one delivered message the generator needs. */
export interface MessageFields {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  body: string;
}

export interface FrameSink {
  message(m: MessageFields): void;
  /** Any other frame, parsed. */
  // deno-lint-ignore no-explicit-any
  other(frame: any): void;
}

/**
 * Reads one text message from the server (a frame or an array of frames) into `sink`. Returns
 * how many frames it held, or -1 when the text is not JSON (then nothing was delivered).
 */
export function scanFrames(text: string, sink: FrameSink): number {
  const fast = scanMessages(text);
  if (fast) {
    for (const m of fast) sink.message(m);
    return fast.length;
  }
  // deno-lint-ignore no-explicit-any
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    return -1;
  }
  const frames = Array.isArray(parsed) ? parsed : [parsed];
  for (const f of frames) {
    const m = f?.type === "message" ? f.message : null;
    if (
      m && typeof m.id === "string" && typeof m.conversationId === "string" &&
      typeof m.seq === "number" && typeof m.senderId === "string" && typeof m.body === "string"
    ) {
      sink.message(m);
    } else sink.other(f);
  }
  return frames.length;
}

const HEAD = '{"type":"message","message":{"id":"';
const CONV = '","conversationId":"';
const SEQ = '","seq":';
const SENDER = ',"senderId":"';
const KIND = '","kind":"';
const BODY = '","body":"';
const TS = '","ts":';
const TAIL = "}}";

/** The messages of a text that holds nothing else in the expected layout, or null. */
export function scanMessages(text: string): MessageFields[] | null {
  // With no escape anywhere, every quote delimits a string and every slice is its value.
  if (text.indexOf("\\") >= 0) return null;
  const array = text.charCodeAt(0) === 91; // [
  const out: MessageFields[] = [];
  let at = array ? 1 : 0;
  for (;;) {
    if (!text.startsWith(HEAD, at)) return null;
    const id0 = at + HEAD.length;
    const id1 = text.indexOf('"', id0);
    if (id1 < 0 || !text.startsWith(CONV, id1)) return null;
    const c0 = id1 + CONV.length;
    const c1 = text.indexOf('"', c0);
    if (c1 < 0 || !text.startsWith(SEQ, c1)) return null;
    let j = c1 + SEQ.length, seq = 0;
    const s0 = j;
    for (let c = text.charCodeAt(j); c >= 48 && c <= 57; c = text.charCodeAt(++j)) {
      seq = seq * 10 + c - 48;
    }
    if (j === s0 || !text.startsWith(SENDER, j)) return null;
    const u0 = j + SENDER.length;
    const u1 = text.indexOf('"', u0);
    if (u1 < 0 || !text.startsWith(KIND, u1)) return null;
    const k1 = text.indexOf('"', u1 + KIND.length);
    if (k1 < 0 || !text.startsWith(BODY, k1)) return null;
    const b0 = k1 + BODY.length;
    const b1 = text.indexOf('"', b0);
    if (b1 < 0 || !text.startsWith(TS, b1)) return null;
    const body = text.slice(b0, b1);
    j = b1 + TS.length;
    const t0 = j;
    for (let c = text.charCodeAt(j); c >= 48 && c <= 57; c = text.charCodeAt(++j));
    if (j === t0 || !text.startsWith(TAIL, j)) return null;
    out.push({
      id: text.slice(id0, id1),
      conversationId: text.slice(c0, c1),
      seq,
      senderId: text.slice(u0, u1),
      body,
    });
    at = j + TAIL.length;
    if (!array) return at === text.length ? out : null;
    const c = text.charCodeAt(at);
    if (c === 93) return at === text.length - 1 ? out : null; // ]
    if (c !== 44) return null; // ,
    at++;
  }
}
