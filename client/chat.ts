/**
 * The browser entry of the chat page: hydrates every `[data-island]` the server rendered,
 * with the props it left in `data-props`.
 * @module
 */
import { type FunctionComponent, h, hydrate } from "preact";
import Chat from "../islands/Chat.tsx";
import type { ChatProps } from "./state.ts";

// deno-lint-ignore no-explicit-any
const islands: Record<string, FunctionComponent<any>> = { Chat };

/** Puts back the message bodies the server left out of the props (components/ChatPage.tsx):
 * each is the text of its bubble's `[data-text]` in the markup being hydrated. */
function bodiesFromMarkup(props: ChatProps, root: HTMLElement): ChatProps {
  if (!props.bodiesInMarkup) return props;
  const texts = new Map<string, string>();
  for (const li of root.querySelectorAll<HTMLElement>('[data-testid="message"][data-seq]')) {
    const text = li.querySelector("[data-text]");
    if (text) texts.set(li.dataset.seq!, text.textContent ?? "");
  }
  const messages = props.messages.map((m) => ({ ...m, body: texts.get(String(m.seq)) ?? "" }));
  return { ...props, messages, bodiesInMarkup: false };
}

for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const island = islands[el.dataset.island ?? ""];
  if (!island) continue;
  const props = JSON.parse(el.dataset.props ?? "{}");
  hydrate(h(island, el.dataset.island === "Chat" ? bodiesFromMarkup(props, el) : props), el);
}
