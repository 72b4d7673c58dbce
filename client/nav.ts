/**
 * The chat's addresses and page titles, as the server's routes (routes/chat.tsx) spell them, so
 * the island's in-page navigation lands on the same URLs a plain link would. Browser
 * compatible, no side effects.
 * @module
 */

/** The page of a conversation, or the list with null. */
export function chatPath(id: string | null): string {
  return id ? `/chat/${encodeURIComponent(id)}` : "/chat";
}

/** The conversation a chat page's path opens, or null for the list. */
export function openIdFromPath(pathname: string): string | null {
  const m = /^\/chat\/([^/]+)/.exec(pathname);
  return m ? decodeURIComponent(m[1]) : null;
}

/** The document title with a conversation open (by its title) or not. */
export function pageTitle(title: string | undefined): string {
  return title ? `${title} · Parley` : "Parley";
}
