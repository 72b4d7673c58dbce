/**
 * The conversation list's index and each member's settings of a conversation (muted,
 * archived). The design, its costs and why: docs/conversation-list.md. In short:
 *
 * - A conversation of at most `INBOX_MAX_MEMBERS` members lists its members in its head
 *   (`Head.inbox`), and each of them has `["inbox", userId, activityTs, convId]`. The message
 *   commit checks the head anyway, so it moves those entries in the same commit (two mutations
 *   per member): the list is a reverse range scan, one read per conversation shown.
 * - A larger group writes nothing per member per message: its members have a
 *   `["big_groups", userId, convId]` entry, and the list reads those groups' heads at query
 *   time (G reads for G such groups), merging them into the scan.
 * - Membership changes keep both in step (store/conversations.ts), also when a group crosses
 *   the threshold either way.
 * @module
 */
import { AppError } from "../errors.ts";
import type { Message } from "../protocol.ts";
import { keys } from "./keys.ts";
import { getMany, listAll, retry } from "./kv.ts";
import type { ConvSettings, Head, MemberRecord } from "./records.ts";

export type { ConvSettings } from "./records.ts";

/** Conversations of at most this many members keep a per-user index entry. */
export const INBOX_MAX_MEMBERS = 50;

/** Whether a conversation of `memberCount` members is indexed per member. */
export const indexedPerMember = (memberCount: number) => memberCount <= INBOX_MAX_MEMBERS;

/** How many mutations `moveInbox` adds for a head (callers keep a commit under 1,000). */
export const inboxMutations = (head: Head | null | undefined) => 2 * (head?.inbox?.length ?? 0);

/**
 * In a commit that moves a conversation's head from `before` to activity time `ts` (a new
 * message): moves each listed member's index entry with it. The commit must check `before`,
 * so the list of members is the one in force.
 */
export function moveInbox(
  op: Deno.AtomicOperation,
  convId: string,
  before: Head,
  ts: number,
): Deno.AtomicOperation {
  if (!before.inbox || before.ts === ts) return op;
  for (const userId of before.inbox) {
    op = op.delete(keys.inbox(userId, before.ts, convId)).set(keys.inbox(userId, ts, convId), true);
  }
  return op;
}

/** The index entry of one member joining a conversation whose head is `head`. */
export function joinIndex(
  op: Deno.AtomicOperation,
  convId: string,
  userId: string,
  head: Head,
): Deno.AtomicOperation {
  return head.inbox
    ? op.set(keys.inbox(userId, head.ts, convId), true)
    : op.set(keys.bigGroup(userId, convId), true);
}

/** Everything of one member leaving: their index entry, settings and archive mark. */
export function leaveIndex(
  op: Deno.AtomicOperation,
  convId: string,
  userId: string,
  head: Head | null,
): Deno.AtomicOperation {
  if (head) op = op.delete(keys.inbox(userId, head.ts, convId));
  return op.delete(keys.bigGroup(userId, convId))
    .delete(keys.convSettings(convId, userId))
    .delete(keys.archived(userId, convId));
}

/**
 * Re-indexes every member when a group crosses `INBOX_MAX_MEMBERS`: to per-member entries
 * (`small`) or to big-group entries. Returns the head to write (with or without `inbox`).
 */
export function reindex(
  op: Deno.AtomicOperation,
  convId: string,
  memberIds: string[],
  head: Head,
  small: boolean,
): { op: Deno.AtomicOperation; head: Head } {
  const { inbox: _, ...rest } = head;
  for (const userId of memberIds) {
    op = small
      ? op.delete(keys.bigGroup(userId, convId)).set(keys.inbox(userId, head.ts, convId), true)
      : op.delete(keys.inbox(userId, head.ts, convId)).set(keys.bigGroup(userId, convId), true);
  }
  return { op, head: small ? { ...rest, inbox: memberIds } : rest };
}

// ---- the list ---------------------------------------------------------------------------------

/** Where a page ends: the last conversation's activity time and id (keyset, both descending). */
export interface ListCursor {
  ts: number;
  id: string;
}

/** The opaque form of a cursor: base64url of `[ts, id]`. */
export function encodeCursor(c: ListCursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify([c.ts, c.id]));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * Reads a cursor made by `encodeCursor`.
 * @throws AppError `invalid_input` (field `cursor`) for anything else.
 */
export function decodeCursor(raw: string): ListCursor {
  const bad = () =>
    new AppError(
      "invalid_input",
      "cursor is not one this server made: use the nextCursor of the previous page.",
      { field: "cursor" },
    );
  if (raw.length > 300 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw bad();
  let value: unknown;
  try {
    const bin = atob(raw.replaceAll("-", "+").replaceAll("_", "/"));
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (ch) => ch.charCodeAt(0)),
    ));
  } catch {
    throw bad();
  }
  if (
    !Array.isArray(value) || value.length !== 2 || !Number.isSafeInteger(value[0]) ||
    typeof value[1] !== "string" || value[1].length === 0 || value[1].length > 100 ||
    !value[1].isWellFormed()
  ) throw bad();
  return { ts: value[0], id: value[1] };
}

/** Descending keyset order: activity time, then id. */
const before = (a: ListCursor, b: ListCursor) => a.ts < b.ts || (a.ts === b.ts && a.id < b.id);
const byRecency = (a: ListCursor, b: ListCursor) => before(a, b) ? 1 : before(b, a) ? -1 : 0;

/** A member's settings of a conversation (the defaults when never set). */
export async function getSettings(
  kv: Deno.Kv,
  convIds: string[],
  userId: string,
): Promise<ConvSettings[]> {
  const entries = await getMany<ConvSettings>(kv, convIds.map((c) => keys.convSettings(c, userId)));
  return entries.map((e) => e.value ?? { muted: false, archivedSeq: null });
}

/**
 * Whether a conversation is archived for `userId`: archived at `archivedSeq` and, unless muted,
 * no other member's message came since (the user's own messages and group changes do not bring
 * it back). Usually answered from the head; only when the user's own message is the newest is
 * the stretch since the archive read.
 */
export async function stillArchived(
  kv: Deno.Kv,
  convId: string,
  userId: string,
  settings: ConvSettings,
  head: Head | null,
): Promise<boolean> {
  const since = settings.archivedSeq;
  if (since === null) return false;
  if (settings.muted || !head || head.seq <= since) return true;
  const fromOther = (m: Message | null) =>
    !!m && m.senderId !== userId && (m.kind as string) !== "system";
  if (head.last && head.last.seq > since && fromOther(head.last)) return false;
  const iter = kv.list<Message>({
    start: keys.message(convId, since + 1),
    end: keys.message(convId, head.seq + 1),
  });
  for await (const e of iter) if (fromOther(e.value)) return false;
  return true;
}

/** One page of a user's list: conversation ids in order, and where the next page starts. */
export interface ListPage {
  ids: string[];
  next: ListCursor | null;
}

/**
 * One page of a user's conversations, most recent activity first, after `cursor`: the
 * default list (archived ones left out) or, with `archived`, the archived ones. The default
 * list reads O(limit + G) entries (G: the user's groups of more than 50 members) plus the
 * archived ones it skips.
 */
export async function listPage(
  kv: Deno.Kv,
  userId: string,
  opts: { limit: number; cursor: ListCursor | null; archived: boolean },
): Promise<ListPage> {
  return opts.archived
    ? await archivedPage(kv, userId, opts.limit, opts.cursor)
    : await defaultPage(kv, userId, opts.limit, opts.cursor);
}

async function defaultPage(
  kv: Deno.Kv,
  userId: string,
  limit: number,
  cursor: ListCursor | null,
): Promise<ListPage> {
  // The big groups: few, read whole (their heads say where they stand).
  const bigIds = (await listAll(kv, { prefix: keys.bigGroupsOf(userId) }))
    .map((e) => e.key[2] as string);
  const bigHeads = await getMany<Head>(kv, bigIds.map(keys.head));
  const bigs: ListCursor[] = bigIds
    .flatMap((id, i) => {
      const h = bigHeads[i].value;
      // A head that lists members is indexed per member now (a crossing in flight).
      return h && !h.inbox ? [{ ts: h.ts, id }] : [];
    })
    .filter((c) => !cursor || before(c, cursor))
    .sort(byRecency);
  // The small ones: a reverse scan from the cursor, pulled as the merge needs them.
  const scan = kv.list<true>(
    cursor
      ? { prefix: keys.inboxOf(userId), end: keys.inbox(userId, cursor.ts, cursor.id) }
      : { prefix: keys.inboxOf(userId) },
    { reverse: true, batchSize: Math.min(limit + 1, 500) },
  )[Symbol.asyncIterator]();
  let scanned: ListCursor | null | undefined; // undefined: not pulled yet; null: done
  const nextScanned = async () => {
    if (scanned === undefined) {
      const r = await scan.next();
      scanned = r.done ? null : { ts: r.value.key[2] as number, id: r.value.key[3] as string };
    }
    return scanned;
  };
  let b = 0;
  const out: ListCursor[] = [];
  const seen = new Set<string>();
  while (out.length <= limit) {
    // The next candidates in order, then one batch of reads to vet them.
    const batch: (ListCursor & { big: boolean })[] = [];
    while (batch.length < limit + 1 - out.length) {
      const s = await nextScanned();
      const g = bigs[b];
      if (!s && !g) break;
      if (g && (!s || before(s, g))) {
        batch.push({ ...g, big: true });
        b++;
      } else {
        batch.push({ ...s!, big: false });
        scanned = undefined;
      }
    }
    if (!batch.length) break;
    const smallIds = batch.filter((c) => !c.big).map((c) => c.id);
    const [heads, settings, members] = await Promise.all([
      getMany<Head>(kv, smallIds.map(keys.head)),
      getSettings(kv, batch.map((c) => c.id), userId),
      // An entry outliving its membership (a restored export) must not show the conversation.
      getMany<MemberRecord>(kv, batch.map((c) => keys.member(c.id, userId))),
    ]);
    const headOf = new Map(smallIds.map((id, i) => [id, heads[i].value]));
    for (const [i, c] of batch.entries()) {
      if (seen.has(c.id)) continue;
      const head = c.big ? bigHeads[bigIds.indexOf(c.id)].value : headOf.get(c.id) ?? null;
      // Entries move atomically, so a conversation has one; a scan that overlaps a move may
      // meet both its old and new entry, and takes the first (the newer). An entry whose time
      // is not its head's (a head writer that moved the time without the entries) still lists
      // the conversation, at the entry's place, rather than losing it.
      if (!head || !members[i].value) continue;
      if (await stillArchived(kv, c.id, userId, settings[i], head)) continue;
      seen.add(c.id);
      out.push(c);
    }
  }
  return page(out, limit);
}

async function archivedPage(
  kv: Deno.Kv,
  userId: string,
  limit: number,
  cursor: ListCursor | null,
): Promise<ListPage> {
  const ids = (await listAll(kv, { prefix: keys.archivedOf(userId) }))
    .map((e) => e.key[2] as string);
  const [heads, settings] = await Promise.all([
    getMany<Head>(kv, ids.map(keys.head)),
    getSettings(kv, ids, userId),
  ]);
  const out: ListCursor[] = [];
  for (const [i, id] of ids.entries()) {
    const head = heads[i].value;
    if (!head) continue;
    const c = { ts: head.ts, id };
    if (cursor && !before(c, cursor)) continue;
    if (await stillArchived(kv, id, userId, settings[i], head)) out.push(c);
  }
  return page(out.sort(byRecency), limit);
}

function page(sorted: ListCursor[], limit: number): ListPage {
  const shown = sorted.slice(0, limit);
  return {
    ids: shown.map((c) => c.id),
    next: sorted.length > limit ? shown[shown.length - 1] : null,
  };
}

// ---- settings ---------------------------------------------------------------------------------

/**
 * Changes a member's settings of a conversation. Archiving records the head's seq; unmuting a
 * conversation that is still archived records it again, so messages that came while muted do
 * not bring it back. Returns false when `userId` is not a member.
 */
export async function updateSettings(
  kv: Deno.Kv,
  convId: string,
  userId: string,
  patch: { muted?: boolean; archived?: boolean },
): Promise<boolean> {
  for (;;) {
    const [member, entry, head] = await retry(() =>
      kv.getMany<[MemberRecord, ConvSettings, Head]>([
        keys.member(convId, userId),
        keys.convSettings(convId, userId),
        keys.head(convId),
      ])
    );
    if (!member.value) return false;
    const current = entry.value ?? { muted: false, archivedSeq: null };
    const wasArchived = await stillArchived(kv, convId, userId, current, head.value);
    const muted = patch.muted ?? current.muted;
    const seq = head.value?.seq ?? 0;
    let archivedSeq: number | null;
    if (patch.archived === true) archivedSeq = wasArchived ? current.archivedSeq : seq;
    else if (patch.archived === false || !wasArchived) archivedSeq = null;
    else archivedSeq = current.muted && !muted ? seq : current.archivedSeq;
    const next: ConvSettings = { muted, archivedSeq };
    let op = kv.atomic().check(member).check(entry).check(head);
    op = next.muted || next.archivedSeq !== null
      ? op.set(keys.convSettings(convId, userId), next)
      : op.delete(keys.convSettings(convId, userId));
    op = next.archivedSeq !== null
      ? op.set(keys.archived(userId, convId), true)
      : op.delete(keys.archived(userId, convId));
    if ((await retry(() => op.commit())).ok) return true;
  }
}
