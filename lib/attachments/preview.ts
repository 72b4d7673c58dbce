/**
 * Checks candidate images and makes their previews in a Worker (see `preview_worker.ts`), one
 * job at a time per isolate, so that decoding a large photo never stalls the sockets this
 * isolate serves and a burst of uploads cannot multiply the memory a decode takes.
 * @module
 */
import { log } from "../log.ts";
import type { PreviewReply, PreviewRequest } from "./preview_core.ts";
import type { SniffedImage } from "./sniff.ts";

export type { PreviewReply, PreviewRequest } from "./preview_core.ts";

/** Longest side of a preview, in pixels. */
export const PREVIEW_MAX_SIDE = 720;
/**
 * Images with more pixels are not decoded (an RGBA bitmap of 40 megapixels is 160 MB): they
 * are kept as files.
 */
export const DECODE_MAX_PIXELS = 40_000_000;
/** A decode that takes longer than this is abandoned (the worker is replaced). */
const JOB_TIMEOUT_MS = 60_000;

export type PreviewResult = Omit<Extract<PreviewReply, { ok: true }>, "id" | "ok">;

/**
 * Runs preview jobs in one lazily started Worker; `close()` ends it. Where a Worker cannot be
 * started (a platform without them), or with `{inProcess: true}`, jobs run in-process instead:
 * slower for the event loop, but previews still get made.
 */
export class PreviewMaker {
  #worker: Worker | null = null;
  #inProcess: boolean;
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #pending = new Map<number, (r: PreviewReply) => void>();

  /**
   * Decodes `bytes` (already sniffed as `image`) and returns its preview, or null when the
   * bytes do not decode as the image they claim to be (then they are a file).
   */
  constructor(opts: { inProcess?: boolean } = {}) {
    this.#inProcess = opts.inProcess ?? false;
  }

  /** `maxSide` is the preview's longest side (avatars are smaller than message previews). */
  make(
    bytes: Uint8Array,
    image: SniffedImage,
    maxSide = PREVIEW_MAX_SIDE,
  ): Promise<PreviewResult | null> {
    if (image.width * image.height > DECODE_MAX_PIXELS) return Promise.resolve(null);
    const job = this.#queue.then(() => this.#run(bytes, image, maxSide));
    this.#queue = job.catch(() => {});
    return job;
  }

  async #run(
    bytes: Uint8Array,
    image: SniffedImage,
    maxSide: number,
  ): Promise<PreviewResult | null> {
    const id = this.#nextId++;
    const req: PreviewRequest = { id, bytes, ...image, maxSide };
    let worker: Worker | null = null;
    if (!this.#inProcess) {
      try {
        worker = this.#ensure();
      } catch (err) {
        log.warn("no preview worker: previews are made in-process", { error: String(err) });
        this.#inProcess = true;
      }
    }
    if (!worker) {
      const { makePreview } = await import("./preview_core.ts");
      return this.#result(await makePreview(req));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply = await new Promise<PreviewReply>((resolve) => {
      this.#pending.set(id, resolve);
      timer = setTimeout(() => {
        log.warn("preview timed out; restarting the preview worker", { bytes: bytes.length });
        this.#restart();
        resolve({ id, ok: false });
      }, JOB_TIMEOUT_MS);
      worker!.postMessage(req);
    });
    clearTimeout(timer);
    this.#pending.delete(id);
    return this.#result(reply);
  }

  #result(reply: PreviewReply): PreviewResult | null {
    if (!reply.ok) return null;
    const { ok: _ok, id: _id, ...result } = reply;
    return result;
  }

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./preview_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (e: MessageEvent<PreviewReply>) => this.#pending.get(e.data.id)?.(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      log.error("preview worker failed", { error: String(e.message) });
      this.#restart();
    };
    this.#worker = worker;
    return worker;
  }

  #restart(): void {
    this.#worker?.terminate();
    this.#worker = null;
    for (const [id, resolve] of this.#pending) resolve({ id, ok: false });
    this.#pending.clear();
  }

  /** Stops the worker; jobs still running answer "not an image". */
  close(): void {
    this.#restart();
  }
}
