import type { ComponentChildren } from "preact";

/**
 * The server side of an island: its HTML, inside a wrapper that names it and carries its
 * props as JSON (an attribute, since the page's CSP allows no inline script), for
 * client/chat.ts to hydrate without fetching anything again.
 */
export function Island(
  props: { name: string; props: unknown; class?: string; children: ComponentChildren },
) {
  return (
    <div data-island={props.name} data-props={JSON.stringify(props.props)} class={props.class}>
      {props.children}
    </div>
  );
}
