/**
 * Sums the generator's workers report, shared by the message report (bench/report.ts) and the
 * changes' (bench/changes.ts).
 * @module
 */

/** Adds `from`'s counts into `into`, name by name. */
export function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Deliveries expected, seen, missing and extra for acked messages or changes. */
export interface DeliveryTally {
  expected: number;
  seen: number;
  lost: number;
  unexpected: number;
}

/**
 * Tallies deliveries of acked items (`[key, conversationId]`, each key once): each is expected
 * on every connected member of its conversation (`members`) but its sender; `received` counts
 * the distinct clients that got each key.
 */
export function tallyDeliveries(
  acked: Iterable<readonly [string, string]>,
  members: Map<string, number>,
  received: Map<string, number>,
): DeliveryTally {
  const t: DeliveryTally = { expected: 0, seen: 0, lost: 0, unexpected: 0 };
  for (const [key, conv] of acked) {
    const want = Math.max(0, (members.get(conv) ?? 0) - 1);
    const got = received.get(key) ?? 0;
    t.expected += want;
    t.seen += Math.min(want, got);
    if (got < want) t.lost += want - got;
    if (got > want) t.unexpected += got - want;
  }
  return t;
}
