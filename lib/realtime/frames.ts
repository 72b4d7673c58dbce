/**
 * Reading a client frame (already `JSON.parse`d) into a `ClientFrame`. The contract's schema
 * (`ClientFrameSchema`, valibot) is the one definition of a valid frame; running it costs
 * about 5% of the server's JavaScript time on the direct path (profile in docs/benchmarks.md),
 * so the frame every message carries, `send`, and the heartbeat, `ping`, are first checked by
 * hand. The hand check only ever accepts what the schema accepts and gives the same output
 * (the known keys, in the schema's order); anything else, valid or not, goes to the schema,
 * which words the error. `frames_test.ts` holds the two to the same answers.
 * @module
 */
import { type ClientFrame, LIMITS } from "../protocol.ts";
import { ClientFrameSchema, parse } from "../validate.ts";

type Raw = Record<string, unknown>;

/** An id as `field.id` takes it: 1 to `idMax` UTF-16 units, well-formed. */
function isId(v: unknown): v is string {
  return typeof v === "string" && v.length >= 1 && v.length <= LIMITS.idMax && v.isWellFormed();
}

/** The keys a fast frame may carry; any other key sends it to the schema. */
const SEND_KEYS = new Set(["type", "id", "conversationId", "body", "kind", "attachmentId"]);

function fastSend(r: Raw): ClientFrame | null {
  // Keys beyond the frame's are stripped by the schema; rare enough to leave to it.
  for (const k in r) if (!SEND_KEYS.has(k)) return null;
  if (!isId(r.id) || !isId(r.conversationId)) return null;
  const out: Raw = { type: "send", id: r.id, conversationId: r.conversationId };
  if ("body" in r) {
    const b = r.body;
    // The schema counts code points only past bodyMaxCodePoints UTF-16 units.
    if (typeof b !== "string" || b.length > LIMITS.bodyMaxCodePoints) return null;
    out.body = b;
  }
  if ("kind" in r) {
    if (r.kind !== "text" && r.kind !== "image" && r.kind !== "file") return null;
    out.kind = r.kind;
  }
  if ("attachmentId" in r) {
    if (!isId(r.attachmentId)) return null;
    out.attachmentId = r.attachmentId;
  }
  return out as ClientFrame;
}

function fastPing(r: Raw): ClientFrame | null {
  let n = 0;
  for (const _ in r) n++;
  if (n === 1) return { type: "ping" };
  if (n === 2 && typeof r.reqId === "string" && r.reqId.length <= LIMITS.idMax) {
    return { type: "ping", reqId: r.reqId };
  }
  return null;
}

/**
 * The frame as the contract reads it.
 * @throws AppError `invalid_input` naming the first field at fault (the schema's wording).
 */
export function readClientFrame(raw: unknown): ClientFrame {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
    const r = raw as Raw;
    const fast = r.type === "send" ? fastSend(r) : r.type === "ping" ? fastPing(r) : null;
    if (fast) return fast;
  }
  return parse(ClientFrameSchema, raw);
}
