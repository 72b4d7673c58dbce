/**
 * A conversation's stream read back: every position a new message or a change took, in order.
 * Sync (`messagesByVersion`) and an isolate filling a gap (`streamBetween`) read it.
 *
 * Where a position is found: a new message at `["messages", convId, seq]`, its own version
 * (`version === seq`) while nobody changes it, with no entry in the version index; a change at
 * `["versions", convId, version]`, naming its target. A change deletes the entry of the
 * target's previous version, so a position with neither (a message changed since, or a change
 * a later one superseded) delivers nothing. Stores written before schema version 4 also hold an
 * entry for every unchanged message (`version → seq`); it names the same message and reads the
 * same. Leaving that entry out saves a new message one key of the nine it wrote, in a part of
 * the tree of its own (docs/benchmarks.md, "Direct path, pass 6").
 * @module
 */
import type { Message } from "../protocol.ts";
import { keys } from "./keys.ts";
import { getMany, listAll, retry } from "./kv.ts";
import { present } from "./messages.ts";
import type { Head, VersionRecord } from "./records.ts";

/**
 * One position of a conversation's stream, as the realtime engine delivers it: a new message
 * (`seq` is its own), a change (`seq` is the change's, `message` the target after it, `changeId`
 * the client's id), or a position whose change a later one superseded (`message` null: nothing
 * to deliver, but the position is passed).
 */
export interface StreamItem {
  seq: number;
  message: Message | null;
  changeId?: string;
}

/** The message seq a version entry names. */
export const targetOf = (v: VersionRecord): number => typeof v === "number" ? v : v.seq;

/** Whether a stored message is still at the position it was sent at (never changed). */
const atOwnSeq = (m: Message): boolean => (m.version ?? m.seq) === m.seq;

/** A position and where its message is: read already, or to read by seq. */
interface Found {
  version: number;
  target: number;
  message?: Message;
  changeId?: string;
}

/** The version entries and the messages of positions afterSeq < p < end, ascending. */
async function readPositions(
  kv: Deno.Kv,
  convId: string,
  afterSeq: number,
  end: number,
  limit?: number,
) {
  const opts = limit === undefined ? {} : { limit };
  const [entries, messages] = await Promise.all([
    listAll<VersionRecord>(kv, {
      start: keys.version(convId, afterSeq + 1),
      end: keys.version(convId, end),
    }, opts),
    listAll<Message>(kv, {
      start: keys.message(convId, afterSeq + 1),
      end: keys.message(convId, end),
    }, opts),
  ]);
  return { entries, messages: messages.map((e) => e.value) };
}

/** Merges entries and unchanged messages by position (an old store's entry for an unchanged
 * message and the message itself are one position). A change whose target was in the range
 * read takes it from there. */
function merge(entries: Deno.KvEntry<VersionRecord>[], messages: Message[]): Found[] {
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  const byVersion = new Map<number, Found>();
  for (const m of messages) {
    if (atOwnSeq(m)) byVersion.set(m.seq, { version: m.seq, target: m.seq, message: m });
  }
  for (const e of entries) {
    const version = e.key[2] as number;
    const target = targetOf(e.value);
    const changeId = typeof e.value === "number" ? undefined : e.value.id;
    byVersion.set(version, { version, target, message: bySeq.get(target), changeId });
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/** Fills in the messages positions name but were not read with them (changes' targets). */
async function withTargets(kv: Deno.Kv, convId: string, found: Found[]): Promise<Found[]> {
  const missing = found.filter((f) => !f.message);
  const read = await getMany<Message>(kv, missing.map((f) => keys.message(convId, f.target)));
  missing.forEach((f, j) => f.message = read[j].value ?? undefined);
  return found;
}

/**
 * Up to `limit` messages whose version is above `afterVersion`, in their current state,
 * ascending by version, and whether more follow: what `sync` answers. Reads the head first:
 * every position up to it is committed, so a new message is never passed over for a change
 * read a moment later. A message changed while it is read carries a newer version than the
 * position it was found at: the page ends before it, and the next page finds it at its new one.
 */
export async function messagesByVersion(
  kv: Deno.Kv,
  convId: string,
  afterVersion: number,
  limit: number,
): Promise<{ messages: Message[]; hasMore: boolean }> {
  for (let attempt = 0;; attempt++) {
    const head = await retry(() => kv.get<Head>(keys.head(convId)));
    const top = head.value?.seq ?? 0;
    if (afterVersion >= top) return { messages: [], hasMore: false };
    // Each list is complete only up to its last entry when it was cut at `limit + 1`; a run of
    // changed messages can leave nothing below that, so read on from there.
    const found: Found[] = [];
    let from = afterVersion, end = top + 1;
    do {
      const read = await readPositions(kv, convId, from, top + 1, limit + 1);
      end = top + 1;
      if (read.entries.length > limit) end = Math.min(end, read.entries[limit].key[2] as number);
      if (read.messages.length > limit) end = Math.min(end, read.messages[limit].seq);
      found.push(...merge(read.entries, read.messages).filter((f) => f.version < end));
      from = end - 1;
    } while (end <= top && found.length <= limit);
    let hasMore = found.length > limit || end <= top;
    const page = await withTargets(kv, convId, found.slice(0, limit));
    const messages: Message[] = [];
    for (const f of page) {
      const m = f.message;
      if (!m) continue;
      if ((m.version ?? m.seq) !== f.version) {
        hasMore = true;
        break;
      }
      messages.push(m);
    }
    if (messages.length || !hasMore || attempt >= 5) return { messages, hasMore };
  }
}

/**
 * The stream positions afterSeq < seq <= upTo (what an isolate missed), every one of them:
 * positions with no message at them any more were superseded by a later change, whose position
 * delivers the message's state. The caller knows `upTo` is committed (the head said so).
 */
export async function streamBetween(
  kv: Deno.Kv,
  convId: string,
  afterSeq: number,
  upTo: number,
): Promise<StreamItem[]> {
  if (upTo <= afterSeq) return [];
  const read = await readPositions(kv, convId, afterSeq, upTo + 1);
  const found = await withTargets(kv, convId, merge(read.entries, read.messages));
  // As served: with reactions and reply excerpts (the stored copies have neither).
  const messages = found.flatMap((f) => f.message ? [f.message] : []);
  const shown = new Map((await present(kv, convId, messages)).map((m) => [m.seq, m]));
  const byVersion = new Map(found.map((f) => [f.version, f]));
  const items: StreamItem[] = [];
  for (let seq = afterSeq + 1; seq <= upTo; seq++) {
    const f = byVersion.get(seq);
    if (!f?.message) items.push({ seq, message: null });
    else {
      const message = shown.get(f.message.seq)!;
      items.push(f.changeId ? { seq, message, changeId: f.changeId } : { seq, message });
    }
  }
  return items;
}
