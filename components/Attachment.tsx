/**
 * How an attachment shows inside a message: an image as its preview at its own aspect ratio
 * (width and height are known, so nothing jumps when it loads), a file as a row with an icon,
 * its name, its size and a download link; and the full-size image viewer. Rendered on the
 * server and inside islands alike.
 * @module
 */
import { useEffect, useRef } from "preact/hooks";
import type { Upload } from "../client/uploads.ts";
import type { Attachment } from "../lib/protocol.ts";

/** Largest box an image preview takes in the list, in CSS pixels. */
const BOX = 280;

/** "12 KB", "3.4 MB": sizes as people read them. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** The size an image preview is drawn at: its own aspect ratio, within BOX × BOX. */
export function previewSize(a: Pick<Attachment, "width" | "height">) {
  const w = a.width ?? BOX, h = a.height ?? BOX;
  const scale = Math.min(1, BOX / w, BOX / h);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/**
 * An image message's picture: the preview, drawn at the image's own aspect ratio. A link to the
 * original, so a page without script still opens it; with script a click opens the viewer.
 */
export function ImageAttachment(props: { attachment: Attachment; onOpen?: () => void }) {
  const a = props.attachment;
  const size = previewSize(a);
  return (
    <a
      href={a.url}
      data-testid="image-attachment"
      onClick={(e) => {
        if (!props.onOpen || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        props.onOpen();
      }}
      class="block max-w-full overflow-hidden rounded-xl bg-slate-200 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
      style={{ width: `${size.width}px`, aspectRatio: `${size.width} / ${size.height}` }}
      aria-label={`Open image ${a.name}`}
    >
      <img
        src={a.previewUrl ?? a.url}
        alt={a.name}
        width={size.width}
        height={size.height}
        loading="lazy"
        decoding="async"
        class="block h-full w-full object-cover"
      />
    </a>
  );
}

/** A file message's row: icon, name, size, download. */
export function FileAttachment(props: { attachment: Attachment; mine?: boolean }) {
  const a = props.attachment;
  return (
    <div
      data-testid="file-attachment"
      class={`flex max-w-full min-w-0 items-center gap-3 rounded-xl border px-3 py-2 ${
        props.mine ? "border-indigo-300 bg-indigo-50" : "border-slate-200 bg-slate-50"
      } text-slate-900`}
    >
      <svg
        aria-hidden="true"
        viewBox="0 0 24 24"
        class="h-8 w-8 flex-none text-slate-500"
        fill="none"
        stroke="currentColor"
        stroke-width="1.5"
      >
        <path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z" />
        <path d="M14 3v5h5" />
      </svg>
      <div class="min-w-0 flex-1">
        <p class="truncate text-sm font-medium" title={a.name} data-testid="file-name">{a.name}</p>
        <p class="text-xs text-slate-500" data-testid="file-size">{formatBytes(a.size)}</p>
      </div>
      <a
        href={a.url}
        download={a.name}
        data-testid="file-download"
        class="flex-none rounded-lg px-2 py-1 text-sm font-medium text-indigo-700 underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
      >
        Download<span class="sr-only">{a.name}</span>
      </a>
    </div>
  );
}

/** The full-size image in a modal; Escape, the close button or a click outside closes it. */
export function ImageViewer(props: { attachment: Attachment; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = ref.current!;
    if (!el.open) el.showModal();
    return () => el.open && el.close();
  }, []);
  const a = props.attachment;
  return (
    <dialog
      ref={ref}
      data-testid="image-viewer"
      aria-label={a.name}
      onClose={props.onClose}
      onClick={(e) => e.target === ref.current && props.onClose()}
      class="m-auto max-h-[95vh] max-w-[95vw] overflow-visible bg-transparent p-0 backdrop:bg-slate-950/85"
    >
      <img
        src={a.url}
        alt={a.name}
        width={a.width ?? undefined}
        height={a.height ?? undefined}
        class="block h-auto max-h-[90vh] w-auto max-w-[95vw] rounded-lg object-contain"
      />
      <div class="mt-2 flex items-center justify-between gap-3 text-sm text-white">
        <span class="truncate">{a.name}</span>
        <span class="flex gap-3">
          <a href={a.url} download={a.name} class="underline">Download</a>
          <button
            type="button"
            data-testid="image-viewer-close"
            onClick={props.onClose}
            class="rounded px-2 font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-white"
          >
            Close
          </button>
        </span>
      </div>
    </dialog>
  );
}

/** A file on its way up: its name, a progress bar and Cancel; or why it failed, and Retry. */
export function Uploading(
  props: { upload: Upload; onCancel: () => void; onRetry: () => void },
) {
  const u = props.upload;
  const pct = Math.round(u.progress * 100);
  const button =
    "rounded-lg px-2 py-1 text-sm font-medium text-indigo-700 hover:bg-indigo-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";
  return (
    <li data-testid="upload" class="flex justify-end px-4 py-1">
      <div class="flex w-72 max-w-[80%] flex-col gap-1 rounded-xl border border-slate-200 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm">
        <div class="flex items-center justify-between gap-2">
          <span class="truncate font-medium" title={u.name}>{u.name}</span>
          <span class="flex-none text-xs text-slate-500">{formatBytes(u.size)}</span>
        </div>
        {u.failed
          ? (
            <>
              <p class="text-rose-600" role="alert">{u.failed}</p>
              <div class="flex justify-end gap-1">
                <button type="button" class={button} onClick={props.onCancel}>Remove</button>
                <button type="button" class={button} onClick={props.onRetry}>Retry</button>
              </div>
            </>
          )
          : (
            <div class="flex items-center gap-2">
              <div
                role="progressbar"
                aria-label={`Uploading ${u.name}`}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={pct}
                class="h-1.5 flex-1 overflow-hidden rounded-full bg-slate-200"
              >
                <div class="h-full bg-indigo-600 transition-[width]" style={{ width: `${pct}%` }} />
              </div>
              <button type="button" class={button} onClick={props.onCancel}>Cancel</button>
            </div>
          )}
        {u.ready && !u.queued && !u.failed
          ? (
            <p data-testid="upload-ready" class="text-xs text-slate-600">
              Ready. Add a caption if you like, then Send.
            </p>
          )
          : null}
      </div>
    </li>
  );
}
