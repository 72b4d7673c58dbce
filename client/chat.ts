/**
 * The browser entry of the chat page: hydrates every `[data-island]` the server rendered,
 * with the props it left in `data-props`.
 * @module
 */
import { type FunctionComponent, h, hydrate } from "preact";
import Chat from "../islands/Chat.tsx";

// deno-lint-ignore no-explicit-any
const islands: Record<string, FunctionComponent<any>> = { Chat };

for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const island = islands[el.dataset.island ?? ""];
  if (island) hydrate(h(island, JSON.parse(el.dataset.props ?? "{}")), el);
}
