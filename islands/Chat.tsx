/**
 * The chat island, the page's one hydration root: builds the store from the server-rendered
 * props (the same state on the server and in the browser), connects it once hydrated, and
 * hands it to the components by context. The layout is components/ChatShell.tsx; state and
 * the socket live in client/.
 * @module
 */
import { useEffect, useMemo } from "preact/hooks";
import { type ChatProps, ChatStore } from "../client/store.ts";
import { ChatShell } from "../components/ChatShell.tsx";
import { StoreContext } from "../components/context.ts";

export default function Chat(props: ChatProps) {
  const store = useMemo(() => new ChatStore(props), []);
  useEffect(() => store.start(), []);
  return (
    <StoreContext.Provider value={store}>
      <ChatShell />
    </StoreContext.Provider>
  );
}
