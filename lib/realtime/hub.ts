/**
 * The connections this isolate holds, indexed by user, session and conversation, so a frame
 * is serialized once and handed only to the sockets that need it.
 * @module
 */
import type { Connection } from "./connection.ts";

export class Hub {
  #byId = new Map<string, Connection>();
  #byUser = new Map<string, Set<Connection>>();
  #convUsers = new Map<string, Set<string>>();
  #userConvs = new Map<string, Set<string>>();

  /** Adds a connection; true when it is the user's first on this isolate. */
  add(conn: Connection): boolean {
    this.#byId.set(conn.id, conn);
    let set = this.#byUser.get(conn.userId);
    const first = !set;
    if (!set) this.#byUser.set(conn.userId, set = new Set());
    set.add(conn);
    return first;
  }

  /**
   * Removes a connection; when it was the user's last, unsubscribes the user everywhere and
   * returns the conversations that no longer have a local listener.
   */
  remove(conn: Connection): { last: boolean; idle: string[] } {
    if (!this.#byId.delete(conn.id)) return { last: false, idle: [] };
    const set = this.#byUser.get(conn.userId);
    set?.delete(conn);
    if (set && set.size > 0) return { last: false, idle: [] };
    this.#byUser.delete(conn.userId);
    const idle: string[] = [];
    for (const convId of this.#userConvs.get(conn.userId) ?? []) {
      if (this.#unlink(conn.userId, convId)) idle.push(convId);
    }
    this.#userConvs.delete(conn.userId);
    return { last: true, idle };
  }

  /** Subscribes a local user to conversations; returns those that had no local listener. */
  subscribe(userId: string, convIds: Iterable<string>): string[] {
    if (!this.#byUser.has(userId)) return [];
    let mine = this.#userConvs.get(userId);
    const fresh: string[] = [];
    for (const convId of convIds) {
      // A Set per user only once they have a conversation: an idle connection costs less.
      if (!mine) this.#userConvs.set(userId, mine = new Set());
      mine.add(convId);
      let users = this.#convUsers.get(convId);
      if (!users) {
        this.#convUsers.set(convId, users = new Set());
        fresh.push(convId);
      }
      users.add(userId);
    }
    return fresh;
  }

  /** Unsubscribes a user from one conversation; true when it lost its last local listener. */
  unsubscribe(userId: string, convId: string): boolean {
    this.#userConvs.get(userId)?.delete(convId);
    return this.#unlink(userId, convId);
  }

  #unlink(userId: string, convId: string): boolean {
    const users = this.#convUsers.get(convId);
    if (!users) return false;
    users.delete(userId);
    if (users.size > 0) return false;
    this.#convUsers.delete(convId);
    return true;
  }

  /** Sends a serialized frame to every local connection in a conversation but one. */
  toConversation(convId: string, raw: string, exceptConnId?: string | null): number {
    const users = this.#convUsers.get(convId);
    if (!users) return 0;
    let sent = 0;
    for (const userId of users) sent += this.toUser(userId, raw, exceptConnId);
    return sent;
  }

  /** Sends a serialized frame to every local connection of a user but one; returns how many. */
  toUser(userId: string, raw: string, exceptConnId?: string | null): number {
    const conns = this.#byUser.get(userId);
    if (!conns) return 0;
    let sent = 0;
    for (const conn of conns) {
      if (conn.id === exceptConnId) continue;
      conn.sendRaw(raw);
      sent++;
    }
    return sent;
  }

  hasUser(userId: string): boolean {
    return this.#byUser.has(userId);
  }

  isSubscribed(userId: string, convId: string): boolean {
    return this.#userConvs.get(userId)?.has(convId) ?? false;
  }

  usersIn(convId: string): Iterable<string> {
    return this.#convUsers.get(convId) ?? [];
  }

  convsOf(userId: string): Iterable<string> {
    return this.#userConvs.get(userId) ?? [];
  }

  users(): Iterable<string> {
    return this.#byUser.keys();
  }

  connections(): Iterable<Connection> {
    return this.#byId.values();
  }

  get size(): number {
    return this.#byId.size;
  }
}
