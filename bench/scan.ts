/**
 * A lean reader for what the server sends, for the generator's hot path. At 500,000
 * deliveries a second `JSON.parse` alone took a quarter of the generator's core, so texts made
 * only of `message` frames laid out exactly as both servers write them (keys in the order of
 * `Message` in lib/protocol.ts) are read with a forward-only scan that pulls out the fields the
 * generator counts; anything else, or any deviation from that layout, is read with
 * `JSON.parse` instead. The scan checks every separator it steps over, so it accepts nothing
 * that is not that layout, and a text with an escape anywhere goes the slow way too.
 *
 * A new message carries the change fields of issue 11 in their unchanged state after `ts`
 * (`unchanged()` in lib/protocol.ts): the scan accepts exactly that tail too. In an array that
 * mixes messages with other frames (`update`s of changes, acks), each other frame is cut out by
 * its brackets and parsed alone, so that one `update` does not send a whole batch of messages
 * through `JSON.parse`.
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
  const fast = scanMessages(text) ?? scanMixed(text);
  if (fast) {
    for (const f of fast) {
      if ("frame" in f) deliverParsed(f.frame, sink);
      else sink.message(f);
    }
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
  for (const f of frames) deliverParsed(f, sink);
  return frames.length;
}

// deno-lint-ignore no-explicit-any
function deliverParsed(f: any, sink: FrameSink) {
  const m = f?.type === "message" ? f.message : null;
  if (
    m && typeof m.id === "string" && typeof m.conversationId === "string" &&
    typeof m.seq === "number" && typeof m.senderId === "string" && typeof m.body === "string"
  ) {
    sink.message(m);
  } else sink.other(f);
}

const HEAD = '{"type":"message","message":{"id":"';
const CONV = '","conversationId":"';
const SEQ = '","seq":';
const SENDER = ',"senderId":"';
const KIND = '","kind":"';
const BODY = '","body":"';
const TS = '","ts":';
const TAIL = "}}";
/** The change fields of a message nobody changed, after `"version":<seq>`. */
const VERSION = ',"version":';
const UNCHANGED = ',"editedTs":null,"deleted":false,"reactions":[],"replyTo":null,"mentions":[]}}';

/** One message frame at `at` in the expected layout and where it ends, or null. */
function scanOne(text: string, at: number): { m: MessageFields; end: number } | null {
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
  if (j === t0) return null;
  if (text.startsWith(VERSION, j)) {
    // Unchanged: the version is the message's own seq.
    j += VERSION.length;
    const v0 = j;
    let version = 0;
    for (let c = text.charCodeAt(j); c >= 48 && c <= 57; c = text.charCodeAt(++j)) {
      version = version * 10 + c - 48;
    }
    if (j === v0 || version !== seq || !text.startsWith(UNCHANGED, j)) return null;
    j += UNCHANGED.length;
  } else if (text.startsWith(TAIL, j)) {
    j += TAIL.length;
  } else return null;
  return {
    m: {
      id: text.slice(id0, id1),
      conversationId: text.slice(c0, c1),
      seq,
      senderId: text.slice(u0, u1),
      body,
    },
    end: j,
  };
}

/**
 * Where the JSON value starting at `at` ends, in a text with no escapes (so that every quote
 * opens or closes a string); -1 when it does not end.
 */
function valueEnd(text: string, at: number): number {
  let depth = 0;
  for (let j = at; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 34) { // "
      j = text.indexOf('"', j + 1);
      if (j < 0) return -1;
    } else if (c === 123 || c === 91) depth++; // { [
    else if (c === 125 || c === 93) { // } ]
      if (--depth === 0) return j + 1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

/**
 * An array of frames some of which are not messages in the expected layout: messages scanned,
 * the others cut out and parsed one by one. Null when anything does not read (then the caller
 * parses the whole text, and nothing has been delivered yet).
 */
// deno-lint-ignore no-explicit-any
export function scanMixed(text: string): (MessageFields | { frame: any })[] | null {
  if (text.charCodeAt(0) !== 91 || text.indexOf("\\") >= 0) return null;
  // deno-lint-ignore no-explicit-any
  const out: (MessageFields | { frame: any })[] = [];
  let at = 1;
  for (;;) {
    const one = scanOne(text, at);
    if (one) {
      out.push(one.m);
      at = one.end;
    } else {
      if (text.charCodeAt(at) !== 123) return null; // {
      const end = valueEnd(text, at);
      if (end < 0) return null;
      try {
        out.push({ frame: JSON.parse(text.slice(at, end)) });
      } catch {
        return null;
      }
      at = end;
    }
    const c = text.charCodeAt(at);
    if (c === 93) return at === text.length - 1 ? out : null; // ]
    if (c !== 44) return null; // ,
    at++;
  }
}

/** The messages of a text that holds nothing else in the expected layout, or null. */
export function scanMessages(text: string): MessageFields[] | null {
  // With no escape anywhere, every quote delimits a string and every slice is its value.
  if (text.indexOf("\\") >= 0) return null;
  const array = text.charCodeAt(0) === 91; // [
  const out: MessageFields[] = [];
  let at = array ? 1 : 0;
  for (;;) {
    const one = scanOne(text, at);
    if (!one) return null;
    out.push(one.m);
    at = one.end;
    if (!array) return at === text.length ? out : null;
    const c = text.charCodeAt(at);
    if (c === 93) return at === text.length - 1 ? out : null; // ]
    if (c !== 44) return null; // ,
    at++;
  }
}
