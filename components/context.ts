/**
 * The store every part of the chat island reads, passed down by context so the server (one
 * store per request) and the browser (one per page) render from the same state.
 * @module
 */
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ChatStore } from "../client/store.ts";

export const StoreContext = createContext<ChatStore | null>(null);

export function useStore(): ChatStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error("useStore() outside the chat island");
  return store;
}
