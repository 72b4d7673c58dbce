/**
 * The preview Worker: runs `makePreview` (preview_core.ts) off the isolate's event loop, so
 * decoding a large photo never stalls the sockets the isolate serves.
 * @module
 */
/// <reference lib="deno.worker" />
import { makePreview, type PreviewRequest } from "./preview_core.ts";

self.onmessage = async (e: MessageEvent<PreviewRequest>) => {
  const reply = await makePreview(e.data);
  const transfer = reply.ok && reply.preview ? [reply.preview.bytes.buffer as ArrayBuffer] : [];
  self.postMessage(reply, { transfer });
};
