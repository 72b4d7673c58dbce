/**
 * Message changes in the fan-out scenario (issue 11, `--changes F`): a fraction F of each
 * sender's sends are edits and reactions instead of new messages, half each. This module holds
 * the choice of what each send is, the per-sender state changes need, the worker's counting of
 * change acks and `update` deliveries, the parent's merge of those counts, and the same-run
 * comparison with a text-only run.
 *
 * How a change is told apart and timed, across worker processes:
 * - Every bench message body says whether its sender may edit it later: `t:<ms>|p:<phase>|e|…`
 *   ("editable") or `…|r|…` ("reactable"); a sender edits only its own acked editable messages,
 *   and everyone reacts only to reactable ones. So an `update` whose message body is editable is
 *   an edit (its body is the edit's own, carrying the edit's send time), and any other `update`
 *   is a reaction (its body is the target's, whose time says nothing about the reaction).
 * - Edits' delivery latency: from the send time in the new body, on every receiver.
 * - Reactions' delivery latency: measured only on receivers in the acting client's own worker
 *   process, where the send time is known: the worker keeps each of its reactions' send time by
 *   the change's stream position (`conversation#seq`, learnt from the ack) and holds the arrival
 *   times of reaction updates it cannot match yet until that ack comes. Reactions of other
 *   workers are counted, not timed. With `--workers 1` (the default) every receiver is timed.
 * - Acks of changes are told from acks of messages by the id sent (each change has its own).
 * - Reaction toggles never change nothing: a sender flips its own reaction state (known from
 *   its acks) and never has two changes to one (message, emoji) in flight, so every change takes
 *   a stream position and is expected on every other member's connection.
 * @module
 */
import { Histogram, type Percentiles } from "./histogram.ts";
import { addCounts, tallyDeliveries } from "./tally.ts";
import type { SendStats } from "./wire.ts";

export type ChangeKind = "edit" | "react";
export type SendKind = "message" | ChangeKind;
export const CHANGE_KINDS: ChangeKind[] = ["edit", "react"];

/** A small set, well under the 20 distinct emoji a message may carry. */
export const EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "🙏"];

/** Reactable messages a worker remembers per conversation (targets of reactions). */
const RECENT_TARGETS = 16;
/** Own editable messages a sender remembers (targets of its edits). */
const RECENT_OWN = 8;
/** Arrival times held for reaction updates not matched yet (bounded: other workers' never are). */
const MAX_WAITING = 200_000;

/**
 * What the n-th send (from 0) of a sender is. A send is a change when the running total
 * `fraction × sends` passes a whole number at it, offset by the sender's `phase` in [0, 1), so
 * that over any stretch a sender's share of changes is within one of `fraction`, and senders
 * with phases spread over [0, 1) make their changes at different sends. Changes alternate
 * between reactions and edits, starting with the sender's `salt` parity, so that both kinds are
 * half of all changes even when each sender makes only one or two.
 */
export function sendKind(n: number, fraction: number, phase: number, salt: number): SendKind {
  if (fraction <= 0) return "message";
  const before = Math.floor(n * fraction + phase);
  if (Math.floor((n + 1) * fraction + phase) === before) return "message";
  return (before + salt) % 2 === 0 ? "react" : "edit";
}

/** A sender's phase for `sendKind`: spread over [0, 1) by the golden ratio of its index. */
export const mixPhase = (gi: number): number => (gi * 0.6180339887498949) % 1;

/** Whether a bench body was marked editable by its sender (see the module doc). */
export function isEditableBody(body: string): boolean {
  const bar = body.indexOf("|p:");
  if (bar < 0) return false;
  let j = bar + 3;
  for (let c = body.charCodeAt(j); c >= 48 && c <= 57; c = body.charCodeAt(++j));
  return body.startsWith("|e|", j);
}

/** The per-sender state of the mix: lives across phases in the worker. */
export class SenderMix {
  /** Sends made, messages made (every other message is editable). */
  n = 0;
  messages = 0;
  /** A change that could not be made when due (no target yet): made at the next send. */
  owed: ChangeKind | null = null;
  /** Seqs of this sender's acked editable messages, newest last. */
  editable: number[] = [];
  /** `seq emoji` → whether this user's reaction is on, as its acks said. */
  toggles = new Map<string, boolean>();
  inFlight = new Set<string>();
  readonly phase: number;

  constructor(readonly gi: number) {
    this.phase = mixPhase(gi);
  }

  /** What the next send is. */
  next(fraction: number): SendKind {
    const k = sendKind(this.n++, fraction, this.phase, this.gi);
    if (k !== "message" || !this.owed) return k;
    const owed = this.owed;
    this.owed = null;
    return owed;
  }

  /** Starts a phase afresh: targets of an earlier phase belong to its counts. */
  reset(): void {
    this.editable = [];
    this.toggles.clear();
    this.inFlight.clear();
    this.owed = null;
  }
}

interface PendingChange {
  kind: ChangeKind;
  sentAt: number;
  sender: SenderMix;
  userId: string;
  toggle?: string;
  on?: boolean;
}

interface KindCounts {
  sent: number;
  acked: number;
  errors: Record<string, number>;
  ackLatency: Histogram;
  deliveryLatency: Histogram;
  deliveries: number;
  deliveriesInWindow: number;
}

/** What a worker reports about changes for one phase (bench/wire.ts `PhaseStats.changes`). */
export interface ChangeStats {
  kinds: Record<ChangeKind, SendStats>;
  /** `[conversation#seq, conversationId, kind]` for every change ack this worker received. */
  acks: [string, string, ChangeKind][];
  /** Changes due while no target existed yet, made at a later send instead. */
  deferred: number;
  /** Due changes never made (the phase ended first): those sends were messages. */
  neverMade: number;
  /** Reaction acks whose message did not show the sender's reaction as it asked. */
  mismatched: number;
  /** Reaction updates whose latency this worker measured (its own reactions' receivers). */
  reactTimed: number;
}

const newCounts = (): KindCounts => ({
  sent: 0,
  acked: 0,
  errors: {},
  ackLatency: new Histogram(),
  deliveryLatency: new Histogram(),
  deliveries: 0,
  deliveriesInWindow: 0,
});

/** One worker's changes for one phase: what to send, and counting what comes back. */
export class PhaseChanges {
  pending = new Map<string, PendingChange>();
  /** Ids of editable messages sent and not acked yet → their sender. */
  #editableSent = new Map<string, SenderMix>();
  #targets = new Map<string, number[]>();
  #lastNoted = new Map<string, number>();
  #kinds: Record<ChangeKind, KindCounts> = { edit: newCounts(), react: newCounts() };
  #acks: [string, string, ChangeKind][] = [];
  #reactSentAt = new Map<string, number>();
  #waiting = new Map<string, number[]>();
  #waitingCount = 0;
  deferred = 0;
  mismatched = 0;
  #reactTimed = 0;

  constructor(readonly phase: number, readonly pad: string) {}

  /**
   * A message of this phase delivered or acked in `conv`: reactable ones become reaction
   * targets. Cheap for the thousand deliveries of one message: only a new seq is looked at.
   */
  noteMessage(conv: string, seq: number, body: string): void {
    const last = this.#lastNoted.get(conv) ?? -1;
    if (seq <= last) return;
    this.#lastNoted.set(conv, seq);
    if (isEditableBody(body)) return;
    let list = this.#targets.get(conv);
    if (!list) this.#targets.set(conv, list = []);
    list.push(seq);
    if (list.length > RECENT_TARGETS) list.shift();
  }

  /** A message body for `sender`'s next message, remembering editable ones until acked. */
  messageBody(sender: SenderMix, id: string, sentAt: number): string {
    const editable = sender.messages++ % 2 === 0;
    if (editable) this.#editableSent.set(id, sender);
    return this.#body(sentAt, editable);
  }

  /** A body that carries its send time and phase and says whether it may be edited. */
  #body(sentAt: number, editable: boolean): string {
    return `t:${sentAt}|p:${this.phase}|${editable ? "e" : "r"}|${this.pad}`;
  }

  /** A message ack (the worker's own pending sends): editable ones become edit targets. */
  noteMessageAck(id: string, seq: number): void {
    const sender = this.#editableSent.get(id);
    if (!sender) return;
    this.#editableSent.delete(id);
    sender.editable.push(seq);
    if (sender.editable.length > RECENT_OWN) sender.editable.shift();
  }

  /** A message refused or never answered: it is no edit target. */
  forgetMessage(id: string): void {
    this.#editableSent.delete(id);
  }

  /**
   * The frame text of `kind` (or of the other kind when `kind` has no target yet) from
   * `sender`, or null when neither has a target: then the change is owed to a later send and
   * the caller sends a message now.
   */
  frame(
    kind: ChangeKind,
    sender: SenderMix,
    userId: string,
    conv: string,
    id: string,
    sentAt: number,
  ): string | null {
    for (const k of kind === "edit" ? ["edit", "react"] as const : ["react", "edit"] as const) {
      const text = k === "edit"
        ? this.#edit(sender, userId, conv, id, sentAt)
        : this.#react(sender, userId, conv, id, sentAt);
      if (text) return text;
    }
    this.deferred++;
    sender.owed = kind;
    return null;
  }

  #edit(sender: SenderMix, userId: string, conv: string, id: string, sentAt: number) {
    if (!sender.editable.length) return null;
    const seq = sender.editable[Math.floor(Math.random() * sender.editable.length)];
    const body = this.#body(sentAt, true);
    this.pending.set(id, { kind: "edit", sentAt, sender, userId });
    this.#kinds.edit.sent++;
    return JSON.stringify({ type: "edit", id, conversationId: conv, seq, body });
  }

  #react(sender: SenderMix, userId: string, conv: string, id: string, sentAt: number) {
    const targets = this.#targets.get(conv);
    if (!targets?.length) return null;
    for (let tries = 0; tries < 8; tries++) {
      const seq = targets[Math.floor(Math.random() * targets.length)];
      const emoji = EMOJI[Math.floor(Math.random() * EMOJI.length)];
      const toggle = `${seq} ${emoji}`;
      if (sender.inFlight.has(toggle)) continue;
      const on = !(sender.toggles.get(toggle) ?? false);
      sender.inFlight.add(toggle);
      this.pending.set(id, { kind: "react", sentAt, sender, userId, toggle, on });
      this.#kinds.react.sent++;
      return JSON.stringify({ type: "react", id, conversationId: conv, seq, emoji, on });
    }
    return null;
  }

  /** An ack: true when it answered one of this worker's changes. */
  // deno-lint-ignore no-explicit-any
  onAck(f: any, t: number): boolean {
    const p = this.pending.get(f.id);
    if (!p) return false;
    this.pending.delete(f.id);
    const counts = this.#kinds[p.kind];
    counts.acked++;
    counts.ackLatency.record(t - p.sentAt);
    const key = `${f.conversationId}#${f.seq}`;
    this.#acks.push([key, f.conversationId, p.kind]);
    if (p.kind === "react") {
      p.sender.inFlight.delete(p.toggle!);
      p.sender.toggles.set(p.toggle!, p.on!);
      const emoji = p.toggle!.slice(p.toggle!.indexOf(" ") + 1);
      const r = (f.message?.reactions ?? []).find((e: { emoji: string }) => e.emoji === emoji);
      // userIds holds the first 50 only: past that, absence proves nothing.
      if ((r?.count ?? 0) <= 50 && (r?.userIds?.includes(p.userId) ?? false) !== p.on) {
        this.mismatched++;
      }
      this.#reactSentAt.set(key, p.sentAt);
      const waiting = this.#waiting.get(key);
      if (waiting) {
        this.#waiting.delete(key);
        this.#waitingCount -= waiting.length;
        for (const at of waiting) counts.deliveryLatency.record(at - p.sentAt);
        this.#reactTimed += waiting.length;
      }
    }
    return true;
  }

  /** An error frame: true when it refused one of this worker's changes (counted by code). */
  onError(id: string, code: string): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    if (p.toggle) p.sender.inFlight.delete(p.toggle);
    const e = this.#kinds[p.kind].errors;
    e[code] = (e[code] ?? 0) + 1;
    return true;
  }

  /**
   * An `update` of this phase arrived at time `t` (the caller counted duplicates and echoes):
   * `body` is the message's body after the change, which tells an edit from a reaction.
   */
  onUpdate(key: string, body: string, sentAt: number, t: number, inWindow: boolean): void {
    if (isEditableBody(body)) {
      const c = this.#kinds.edit;
      c.deliveries++;
      if (inWindow) c.deliveriesInWindow++;
      c.deliveryLatency.record(t - sentAt);
      return;
    }
    const c = this.#kinds.react;
    c.deliveries++;
    if (inWindow) c.deliveriesInWindow++;
    const at = this.#reactSentAt.get(key);
    if (at !== undefined) {
      c.deliveryLatency.record(t - at);
      this.#reactTimed++;
    } else if (this.#waitingCount < MAX_WAITING) {
      const list = this.#waiting.get(key);
      if (list) list.push(t);
      else this.#waiting.set(key, [t]);
      this.#waitingCount++;
    }
  }

  toJSON(senders: Iterable<SenderMix>): ChangeStats {
    const unanswered: Record<ChangeKind, number> = { edit: 0, react: 0 };
    for (const p of this.pending.values()) unanswered[p.kind]++;
    let neverMade = 0;
    for (const s of senders) if (s.owed) neverMade++;
    const kind = (k: ChangeKind) => {
      const c = this.#kinds[k];
      return {
        sent: c.sent,
        acked: c.acked,
        unanswered: unanswered[k],
        errors: c.errors,
        ackLatency: c.ackLatency.toJSON(),
        deliveryLatency: c.deliveryLatency.toJSON(),
        deliveries: c.deliveries,
        deliveriesInWindow: c.deliveriesInWindow,
      };
    };
    return {
      kinds: { edit: kind("edit"), react: kind("react") },
      acks: this.#acks,
      deferred: this.deferred,
      neverMade,
      mismatched: this.mismatched,
      reactTimed: this.#reactTimed,
    };
  }
}

// --- the parent: merging and comparing ---------------------------------------------------------

export interface KindSummary {
  sent: number;
  acked: number;
  unanswered: number;
  errors: Record<string, number>;
  rateLimited: number;
  ackLatencyMs: Percentiles;
  /** Edits: every receiver. Reactions: receivers in the acting client's worker only. */
  deliveryLatencyMs: Percentiles;
  deliveriesExpected: number;
  deliveriesSeen: number;
  deliveriesTotal: number;
  deliveredPerSec: number;
  lost: number;
  unexpected: number;
}

export interface ChangesSummary {
  fraction: number;
  edit: KindSummary;
  react: KindSummary;
  deferred: number;
  neverMade: number;
  mismatched: number;
  reactTimed: number;
}

/**
 * Merges the workers' change counts. `received` holds distinct receivers per stream position
 * (messages' and changes' positions together: they never share one); `members` the connected
 * members per conversation: each acked change is expected on every one but its maker.
 */
export function summarizeChanges(
  fraction: number,
  stats: ChangeStats[],
  received: Map<string, number>,
  members: Map<string, number>,
  durationS: number,
): { summary: ChangesSummary; keys: Set<string> } {
  const keys = new Set<string>();
  const kind = (k: ChangeKind): KindSummary => {
    const ack = new Histogram(), del = new Histogram();
    const errors: Record<string, number> = {};
    let sent = 0, acked = 0, unanswered = 0, total = 0, inWindow = 0;
    const mine: [string, string][] = [];
    for (const s of stats) {
      const c = s.kinds[k];
      sent += c.sent;
      acked += c.acked;
      unanswered += c.unanswered;
      total += c.deliveries;
      inWindow += c.deliveriesInWindow;
      ack.merge(c.ackLatency);
      del.merge(c.deliveryLatency);
      addCounts(errors, c.errors);
      for (const [key, conv, kk] of s.acks) {
        if (kk !== k || keys.has(key)) continue;
        keys.add(key);
        mine.push([key, conv]);
      }
    }
    const { expected, seen, lost, unexpected } = tallyDeliveries(mine, members, received);
    return {
      sent,
      acked,
      unanswered,
      errors,
      rateLimited: errors["rate_limited"] ?? 0,
      ackLatencyMs: ack.summary(),
      deliveryLatencyMs: del.summary(),
      deliveriesExpected: expected,
      deliveriesSeen: seen,
      deliveriesTotal: total,
      deliveredPerSec: Math.round((inWindow / durationS) * 10) / 10,
      lost,
      unexpected,
    };
  };
  const sum = (f: (s: ChangeStats) => number) => stats.reduce((a, s) => a + f(s), 0);
  return {
    summary: {
      fraction,
      edit: kind("edit"),
      react: kind("react"),
      deferred: sum((s) => s.deferred),
      neverMade: sum((s) => s.neverMade),
      mismatched: sum((s) => s.mismatched),
      reactTimed: sum((s) => s.reactTimed),
    },
    keys,
  };
}

/** Rows for the changes table printed under a phase's table. */
export function changesTable(
  c: ChangesSummary,
  table: (header: string[], rows: (string | number | null)[][]) => string,
  pct: (p: Percentiles) => string,
): string {
  return table(
    [
      "change",
      "sent",
      "acked",
      "unanswered",
      "errors",
      "deliv/s",
      "seen/expected",
      "lost",
      "ack ms p50/p90/p99/max",
      "deliv ms p50/p90/p99/max",
    ],
    CHANGE_KINDS.map((k) => {
      const s = c[k];
      const errs = Object.values(s.errors).reduce((a, b) => a + b, 0);
      return [
        k,
        s.sent,
        s.acked,
        s.unanswered,
        errs + (s.rateLimited ? `(rl ${s.rateLimited})` : ""),
        s.deliveredPerSec,
        `${s.deliveriesSeen}/${s.deliveriesExpected}`,
        s.lost,
        pct(s.ackLatencyMs),
        pct(s.deliveryLatencyMs) + (k === "react" ? " (own worker)" : ""),
      ];
    }),
  );
}

/** The figures of one fan-out run the comparison reads. */
export interface RunFigures {
  /** Deliveries of messages and changes together, per second of the window. */
  allDeliveredPerSec: number;
  deliveryP99Ms: number | null;
  ackP99Ms: number | null;
}

export interface Comparison {
  allDeliveredRatio: number | null;
  deliveryP99Ratio: number | null;
  ackP99Ratio: number | null;
  /** Issue 11's goal: delivered/s at least 0.9× and message delivery p99 at most 1.1× text-only. */
  withinGoal: boolean;
}

/** The mixed run against the text-only run of the same invocation. */
export function compareRuns(textOnly: RunFigures, mixed: RunFigures): Comparison {
  const ratio = (x: number | null, y: number | null) =>
    x === null || y === null || y === 0 ? null : Math.round((x / y) * 1000) / 1000;
  const allDeliveredRatio = ratio(mixed.allDeliveredPerSec, textOnly.allDeliveredPerSec);
  const deliveryP99Ratio = ratio(mixed.deliveryP99Ms, textOnly.deliveryP99Ms);
  return {
    allDeliveredRatio,
    deliveryP99Ratio,
    ackP99Ratio: ratio(mixed.ackP99Ms, textOnly.ackP99Ms),
    withinGoal: allDeliveredRatio !== null && deliveryP99Ratio !== null &&
      allDeliveredRatio >= 0.9 && deliveryP99Ratio <= 1.1,
  };
}

/** The comparison as printed after both runs. */
export function comparisonText(fraction: number, c: Comparison): string {
  return `\n== mixed (changes ${fraction}) vs text-only, same invocation ==\n` +
    `all deliveries/s ${c.allDeliveredRatio}×, message delivery p99 ${c.deliveryP99Ratio}×, ` +
    `message ack p99 ${c.ackP99Ratio}×: ${c.withinGoal ? "within" : "NOT within"} issue 11's ` +
    "goal (delivered/s ≥ 0.9×, p99 ≤ 1.1×)";
}
