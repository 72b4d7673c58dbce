/**
 * Presence for one isolate: it marks its users online in KV (store/presence.ts), announces who
 * came and went to the members of their direct chats and small groups, here and through the
 * broker to other isolates, and batches the frames so a crowd arriving at once costs one pass.
 * Modelled on Centrifuge's `presence.go` over its store.
 * @module
 */
import { getConversations } from "../store/conversations.ts";
import {
  forgetOnline,
  lookupPresence,
  markOffline,
  markOnline,
  type PresenceState,
} from "../store/presence.ts";
import type { PresenceNote } from "./broker.ts";
import type { Hub } from "./hub.ts";

/** Presence is announced through direct chats and groups up to this size only, so a big group
 * coming online at once costs O(members) frames, not O(members²). */
export const PRESENCE_GROUP_MAX = 50;
/** Announcements made within this long go out together. */
export const PRESENCE_FLUSH_MS = 100;
/** How long an online mark lives without a refresh (an isolate that dies stops refreshing). */
const ONLINE_TTL_MS = 90_000;

/** What presence needs to know of a conversation to decide whether to announce through it. */
export interface ConvMeta {
  kind: string;
  memberCount: number;
}

/** Where announcements go besides local sockets, and which conversations stay fresh here. */
export interface PresenceLinks {
  /** Whether this isolate follows a conversation (its events keep cached metadata fresh). */
  following(convId: string): boolean;
  /** Tells other isolates. */
  publishPresence(note: PresenceNote): void;
}

export class Presence {
  /** Whether `to` must not hear of `from` (a block); the engine sets it. */
  hides: (from: string, to: string) => boolean = () => false;
  #meta = new Map<string, ConvMeta>();
  #pending = new Map<string, { frame: string; convIds: string[] }>();
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private kv: Deno.Kv,
    private isolateId: string,
    private hub: Hub,
    private links: PresenceLinks,
  ) {}

  /** Marks users online from this isolate (batched; also used to refresh). */
  markOnline(userIds: string[]): Promise<void> {
    return markOnline(this.kv, this.isolateId, userIds, ONLINE_TTL_MS);
  }

  /** Marks a user gone from this isolate; their `lastSeen` when they are offline now, or null
   * while they are online elsewhere. */
  markOffline(userId: string): Promise<number | null> {
    return markOffline(this.kv, this.isolateId, userId);
  }

  /** Online state and last-seen time of many users. */
  lookup(userIds: string[]): Promise<Map<string, PresenceState>> {
    return lookupPresence(this.kv, userIds);
  }

  /** Removes this isolate's marks for users (on shutdown). */
  forget(userIds: string[]): Promise<void> {
    return forgetOnline(this.kv, this.isolateId, userIds);
  }

  /** What is known of conversations now, for an announcement made after they are unfollowed. */
  known(convIds: Iterable<string>): Map<string, ConvMeta> {
    const out = new Map<string, ConvMeta>();
    for (const c of convIds) {
      const m = this.#meta.get(c);
      if (m) out.set(c, m);
    }
    return out;
  }

  /** A conversation's kind or size may have changed, or it is no longer followed. */
  invalidate(convId: string): void {
    this.#meta.delete(convId);
  }

  /**
   * Announces a user's arrival or departure to local members and other isolates, unless they
   * came or went again meanwhile (then the newer announcement stands).
   */
  async announce(
    userId: string,
    online: boolean,
    lastSeen: number | null,
    convIds: string[],
    known?: Map<string, ConvMeta>,
  ): Promise<void> {
    const small = await this.#announcedThrough(convIds, known);
    if (online !== this.hub.hasUser(userId)) return;
    const note = { userId, online, lastSeen, convIds: small };
    this.queue(note);
    this.links.publishPresence(note);
  }

  /**
   * The conversations through which presence is announced: direct ones and small groups. What
   * it learns is kept only for conversations this isolate follows (their events keep it fresh).
   */
  async #announcedThrough(convIds: string[], known?: Map<string, ConvMeta>): Promise<string[]> {
    const meta = new Map<string, ConvMeta>();
    const unknown: string[] = [];
    for (const c of convIds) {
      const m = this.#meta.get(c) ?? known?.get(c);
      if (m) meta.set(c, m);
      else unknown.push(c);
    }
    if (unknown.length) {
      for (const c of await getConversations(this.kv, unknown)) {
        const m = { kind: c.kind, memberCount: c.memberCount };
        meta.set(c.id, m);
        if (this.links.following(c.id)) this.#meta.set(c.id, m);
      }
    }
    return convIds.filter((c) => {
      const m = meta.get(c);
      return m && (m.kind === "direct" || m.memberCount <= PRESENCE_GROUP_MAX);
    });
  }

  /** Queues a `presence` frame for local members; the latest note per user wins. */
  queue({ userId, online, lastSeen, convIds }: PresenceNote): void {
    const frame = JSON.stringify({ type: "presence", userId, online, lastSeen });
    this.#pending.set(userId, { frame, convIds });
    this.#timer ??= setTimeout(() => this.flush(), PRESENCE_FLUSH_MS);
  }

  /** Sends the queued frames now: each local member once per user, whatever they share. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [userId, { frame, convIds }] of pending) {
      const recipients = new Set<string>();
      for (const c of convIds) {
        for (const u of this.hub.usersIn(c)) {
          if (u !== userId && !this.hides(userId, u)) recipients.add(u);
        }
      }
      for (const u of recipients) this.hub.toUser(u, frame);
    }
  }

  /** Drops what is queued and stops the timer. */
  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending.clear();
  }
}
