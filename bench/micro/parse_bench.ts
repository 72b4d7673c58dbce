/**
 * Client frame handling as lib/realtime/socket.ts does it: `JSON.parse`, then
 * `parse(ClientFrameSchema, …)` (valibot, lib/validate.ts). Baseline per frame: `JSON.parse`
 * alone, so the ratio is the validation overhead.
 * @module
 */
import { checkSendShape, ClientFrameSchema, parse } from "../../lib/validate.ts";
import { body } from "./_support.ts";

const conv = crypto.randomUUID();
const frames = {
  "send, 200-char body": JSON.stringify({
    type: "send",
    id: crypto.randomUUID(),
    conversationId: conv,
    body: body(200),
  }),
  "ping": JSON.stringify({ type: "ping", reqId: "r1" }),
  "send, 4000-char body": JSON.stringify({
    type: "send",
    id: crypto.randomUUID(),
    conversationId: conv,
    body: body(4000),
  }),
  // 4,000 code points outside the BMP (8,000 UTF-16 units): the body check's slow branch
  // (`[...s].length`) is taken.
  "send, 4000 emoji body": JSON.stringify({
    type: "send",
    id: crypto.randomUUID(),
    conversationId: conv,
    body: "😀".repeat(4000),
  }),
  // The last variant tried: valibot's `variant` looks the discriminator up, but a `read`
  // shows the cost of a non-first option.
  "read": JSON.stringify({ type: "read", conversationId: conv, seq: 12345 }),
};

let sink: unknown;
for (const [label, text] of Object.entries(frames)) {
  // Fail loudly if a frame would be rejected: then the bench would time the error path.
  parse(ClientFrameSchema, JSON.parse(text));
  Deno.bench({
    name: `JSON.parse [${label}]`,
    group: `frame ${label}`,
    baseline: true,
    fn() {
      sink = JSON.parse(text);
    },
  });
  Deno.bench({
    name: `JSON.parse + parse(ClientFrameSchema) [${label}]`,
    group: `frame ${label}`,
    fn() {
      sink = parse(ClientFrameSchema, JSON.parse(text));
    },
  });
}

// The error path matters under abuse: an invalid frame builds an AppError with a message.
const bad = JSON.stringify({ type: "send", id: "x", conversationId: conv, body: "   " });
Deno.bench({
  name: "JSON.parse + parse(ClientFrameSchema) [invalid send: blank body → AppError]",
  group: "frame invalid",
  fn() {
    try {
      // A blank text passes the schema (a caption may be blank); the send path's shape check
      // refuses it.
      checkSendShape(parse(ClientFrameSchema, JSON.parse(bad)) as { body?: string });
    } catch (e) {
      sink = e;
    }
  },
});

globalThis.addEventListener("unload", () => void sink);
