import { deepEqual } from "node:assert/strict";
import { AppError } from "../errors.ts";
import { ClientFrameSchema, parse } from "../validate.ts";
import { readClientFrame } from "./frames.ts";

/** What the schema alone answers: the frame, or the error's code, field and message. */
function bySchema(raw: unknown): unknown {
  try {
    return { ok: parse(ClientFrameSchema, raw) };
  } catch (err) {
    const e = err as AppError;
    return { code: e.code, message: e.message, field: e.field };
  }
}

function byReader(raw: unknown): unknown {
  try {
    return { ok: readClientFrame(raw) };
  } catch (err) {
    const e = err as AppError;
    return { code: e.code, message: e.message, field: e.field };
  }
}

const long = (n: number, c = "a") => c.repeat(n);

const cases: unknown[] = [
  { type: "send", id: "m1", conversationId: "c1", body: "hello" },
  { type: "send", id: "m1", conversationId: "c1", body: "" },
  { type: "send", id: "m1", conversationId: "c1" },
  { type: "send", id: "m1", conversationId: "c1", body: "hi", kind: "text" },
  { type: "send", id: "m1", conversationId: "c1", body: "cap", kind: "image", attachmentId: "a1" },
  { type: "send", id: "m1", conversationId: "c1", kind: "file", attachmentId: "a1" },
  { type: "send", id: "m1", conversationId: "c1", body: "hi", extra: 1 },
  { type: "send", id: "m1", conversationId: "c1", body: "hi", reqId: "r1" },
  { type: "send", id: "", conversationId: "c1", body: "hi" },
  { type: "send", id: long(100), conversationId: "c1", body: "hi" },
  { type: "send", id: long(101), conversationId: "c1", body: "hi" },
  { type: "send", id: "X\ud800", conversationId: "c1", body: "hi" },
  { type: "send", id: "m1", conversationId: "c\udfff", body: "hi" },
  { type: "send", id: 5, conversationId: "c1", body: "hi" },
  { type: "send", id: "m1", body: "hi" },
  { type: "send", id: "m1", conversationId: "c1", body: null },
  { type: "send", id: "m1", conversationId: "c1", body: 7 },
  { type: "send", id: "m1", conversationId: "c1", body: long(4000) },
  { type: "send", id: "m1", conversationId: "c1", body: long(4001) },
  // 4,000 code points in 8,000 UTF-16 units: valid, and left to the schema to count.
  { type: "send", id: "m1", conversationId: "c1", body: long(4000, "😀") },
  { type: "send", id: "m1", conversationId: "c1", body: long(4001, "😀") },
  { type: "send", id: "m1", conversationId: "c1", body: "hi", kind: "video" },
  { type: "send", id: "m1", conversationId: "c1", body: "hi", kind: null },
  { type: "send", id: "m1", conversationId: "c1", kind: "image", attachmentId: "" },
  { type: "send", id: "m1", conversationId: "c1", kind: "image", attachmentId: 3 },
  { type: "ping" },
  { type: "ping", reqId: "r1" },
  { type: "ping", reqId: long(101) },
  { type: "ping", reqId: 1 },
  { type: "ping", other: "x" },
  { type: "sync", conversationId: "c1", afterSeq: 0 },
  { type: "typing", conversationId: "c1" },
  { type: "nope" },
  {},
  [],
  null,
  "send",
];

Deno.test("readClientFrame answers every frame exactly as the contract's schema does", () => {
  for (const raw of cases) deepEqual(byReader(raw), bySchema(raw), JSON.stringify(raw));
});

Deno.test("readClientFrame keeps only the frame's own keys, like the schema", () => {
  const frame = readClientFrame({ type: "send", id: "m", conversationId: "c", body: "x", z: 1 });
  deepEqual(frame, { type: "send", id: "m", conversationId: "c", body: "x" });
});
