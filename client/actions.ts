/**
 * What the client does through the REST API rather than the socket: paging history, loading
 * members, finding people, starting conversations and changing groups. Each call's answer is folded into the chat state it is
 * given, so the page shows the change before (or without) the frame that tells other tabs.
 * Browser only (it calls the API).
 * @module
 */
import type { UserWithPresence } from "../lib/protocol.ts";
import * as api from "./api.ts";
import { mergeMessages } from "./reducer.ts";
import type { ChatState } from "./state.ts";

/** The part of the store the actions change. */
export interface ActionHost
  extends Pick<ChatState, "me" | "openId" | "upsert" | "update" | "thread" | "learnAuthors"> {
  open(id: string): Promise<void>;
  removed(id: string): void;
}

export class ChatActions {
  #host: ActionHost;

  constructor(host: ActionHost) {
    this.#host = host;
  }

  /** Loads the page of history just above what a loaded thread holds. */
  async loadOlder(convId: string): Promise<void> {
    const t = this.#host.thread(convId);
    if (!t.loaded || !t.hasMore.value || t.loadingOlder.value) return;
    t.loadingOlder.value = true;
    try {
      const page = await api.getMessages(convId, t.messages.value[0]?.seq ?? 0);
      this.#host.learnAuthors(page.messages, page.users);
      t.messages.value = mergeMessages(t.messages.value, page.messages);
      t.hasMore.value = page.hasMore;
    } finally {
      t.loadingOlder.value = false;
    }
  }

  /** Makes sure the message `seq` is held, paging up as far as it takes (a reply's quote
   * leads to it); false when it is not in the history (or paging failed). */
  async reveal(convId: string, seq: number): Promise<boolean> {
    const t = this.#host.thread(convId);
    const held = () => t.messages.value.some((m) => m.seq === seq);
    // A page that brings nothing older, again and again, ends the search (an answer that says
    // hasMore with nothing in it must not keep this going).
    for (let stalls = 0; stalls < 50;) {
      if (held() || !t.hasMore.value || (t.messages.value[0]?.seq ?? 0) <= seq) break;
      const before = t.messages.value[0]?.seq;
      try {
        await this.loadOlder(convId);
      } catch {
        return false;
      }
      if (t.messages.value[0]?.seq !== before) stalls = 0;
      else {
        // Another load was running: wait for it rather than spinning.
        stalls++;
        await new Promise((ok) => setTimeout(ok, 100));
      }
    }
    return held();
  }

  /** Fetches a conversation's members (roles, presence, read cursors). */
  async refreshMembers(id: string): Promise<void> {
    try {
      const d = await api.getConversation(id);
      const t = this.#host.thread(id);
      // Whoever leaves the list (removed, left) still signs their messages and changes.
      if (t.members.value) this.#host.learnAuthors([], t.members.value);
      t.members.value = d.members;
      this.#host.upsert(d.conversation);
    } catch { /* the list still works without it */ }
  }

  /** Finds users to talk to (not yourself). */
  async searchUsers(q: string): Promise<UserWithPresence[]> {
    if (!q.trim()) return [];
    const { users } = await api.searchUsers(q.trim());
    return users.filter((u) => u.id !== this.#host.me.id);
  }

  /** Starts (or finds) a direct chat, or creates a group, and opens it. */
  async create(input: api.NewConversation): Promise<void> {
    const { conversation } = await api.createConversation(input);
    this.#host.upsert(conversation);
    await this.#host.open(conversation.id);
  }

  async addMember(convId: string, userId: string): Promise<void> {
    await api.addMember(convId, userId);
    await this.refreshMembers(convId);
  }

  /** Renames a group (owner or admin); the others' pages follow from the `conversation` frame. */
  async rename(convId: string, title: string): Promise<void> {
    await api.renameConversation(convId, title);
    // The tab's title follows from the list (the store's title effect).
    this.#host.update(convId, (c) => ({ ...c, title }));
  }

  /** Makes a member an admin or a plain member again (owner only). */
  async setRole(convId: string, userId: string, role: "admin" | "member"): Promise<void> {
    await api.setRole(convId, userId, role);
    await this.refreshMembers(convId);
  }

  /** Removes a member; removing yourself leaves the group. */
  async removeMember(convId: string, userId: string): Promise<void> {
    await api.removeMember(convId, userId);
    if (userId === this.#host.me.id) this.#host.removed(convId);
    else await this.refreshMembers(convId);
  }
}
