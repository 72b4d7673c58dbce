/**
 * The global event log: membership changes, receipts and session revocations, each under a
 * gapless sequence number. Isolates watch `events_head` and read the log by range, so these
 * events arrive even when BroadcastChannel loses them. Entries expire after a day.
 * @module
 */
import { keys } from "./keys.ts";
import { listAll, retry } from "./kv.ts";
import type { LogEvent, LoggedEvent } from "./records.ts";

export type { LogEvent, LoggedEvent } from "./records.ts";

const EVENT_TTL_MS = 24 * 3600 * 1000;

/**
 * Appends events in one atomic commit, optionally together with the caller's own mutations
 * (`extend` may add checks; when they fail, nothing is written and `null` comes back).
 * @example
 * await appendEvents(kv, [{ type: "revoke", sessionId, userId }], (op) => op.delete(key));
 */
export async function appendEvents(
  kv: Deno.Kv,
  events: LogEvent[],
  extend?: (op: Deno.AtomicOperation) => Deno.AtomicOperation,
): Promise<LoggedEvent[] | null> {
  for (;;) {
    const head = await retry(() => kv.get<number>(keys.eventsHead()));
    const base = head.value ?? 0;
    let op = kv.atomic().check(head);
    const logged = events.map((event, i) => ({ seq: base + i + 1, event }));
    for (const e of logged) op = op.set(keys.event(e.seq), e.event, { expireIn: EVENT_TTL_MS });
    op = op.set(keys.eventsHead(), base + events.length);
    if (extend) op = extend(op);
    const res = await retry(() => op.commit());
    if (res.ok) return logged;
    // Either the head moved (retry) or the caller's own check failed (give up).
    const now = await retry(() => kv.get<number>(keys.eventsHead()));
    if (now.versionstamp === head.versionstamp) return null;
  }
}

/** The current head of the log. */
export async function eventsHead(kv: Deno.Kv): Promise<number> {
  return (await retry(() => kv.get<number>(keys.eventsHead()))).value ?? 0;
}

/** Events with `after < seq <= upTo`, ascending. */
export async function readEvents(
  kv: Deno.Kv,
  after: number,
  upTo: number,
): Promise<LoggedEvent[]> {
  if (upTo <= after) return [];
  const entries = await listAll<LogEvent>(kv, {
    start: keys.event(after + 1),
    end: keys.event(upTo + 1),
  });
  return entries.map((e) => ({ seq: e.key[1] as number, event: e.value }));
}
