import type { ComponentChildren } from "preact";
import { asset } from "./assets.ts";

/** The HTML shell every page shares: styles, viewport, and the island scripts it needs. */
export function Layout(
  props: { title: string; children: ComponentChildren; scripts?: string[]; bodyClass?: string },
) {
  return (
    <html lang="en" class="h-full">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{props.title}</title>
        <link rel="icon" href={asset("/static/favicon.svg")} type="image/svg+xml" />
        <link rel="stylesheet" href={asset("/static/app.css")} />
        {props.scripts?.map((src) => <script type="module" src={asset(src)} key={src} />)}
      </head>
      <body class={props.bodyClass ?? "h-full bg-slate-50 text-slate-900 antialiased"}>
        {props.children}
      </body>
    </html>
  );
}

/** The Parley mark: a speech bubble in the brand colour. */
export function Logo(props: { size?: number }) {
  const size = props.size ?? 32;
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="9" fill="#4f46e5" />
      <path
        d="M9 11.5A3.5 3.5 0 0 1 12.5 8h7A3.5 3.5 0 0 1 23 11.5v5a3.5 3.5 0 0 1-3.5 3.5H15l-4.2 3.4c-.5.4-1.3 0-1.3-.6V20A3.5 3.5 0 0 1 9 16.5z"
        fill="#fff"
      />
    </svg>
  );
}
