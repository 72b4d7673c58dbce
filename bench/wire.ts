/**
 * What the generator's parent and its worker processes say to each other: one JSON object per
 * line, commands on the worker's stdin, events on its stdout.
 * @module
 */
import type { ChangeStats } from "./changes.ts";
import type { HistogramData } from "./histogram.ts";

/** One WebSocket client a worker holds; `gi` is its index across all workers. */
export interface ClientSpec {
  gi: number;
  url: string;
  /** Conversations it is a member of (for counting what it should receive). */
  convs: string[];
}

export interface InitCmd {
  cmd: "init";
  workerIndex: number;
  clients: ClientSpec[];
  /** Connections opening at once. */
  connectConcurrency: number;
  readyTimeoutMs: number;
  /** The worker exits by itself after this long, whatever happens. */
  lifetimeMs: number;
  /** A client that sent nothing for this long sends a ping (the contract asks for < 25 s). */
  pingIdleMs: number;
}

/** One sender in a phase: sends to `conv` at `rate` msgs/s starting `offsetMs` after start. */
export interface SenderSpec {
  gi: number;
  conv: string;
  rate: number;
  offsetMs: number;
}

export interface PhaseCmd {
  cmd: "phase";
  phase: number;
  /** Epoch ms (performance.timeOrigin + performance.now()) at which sending starts. */
  startAt: number;
  durationMs: number;
  /** After the send window: wait until quiet for `quietMs`, at most `drainMaxMs`. */
  drainMaxMs: number;
  quietMs: number;
  senders: SenderSpec[];
  /** Extra characters in each body, to model message size. */
  pad: string;
  /** Fraction of each sender's sends that are changes (bench/changes.ts); 0 for none. */
  changes?: number;
  /** Mark bodies editable or reactable (bench/changes.ts), also with no changes, so that a
   * text-only run sends the same bodies as the mixed run it is compared with. */
  mark?: boolean;
}

export interface CloseCmd {
  cmd: "close";
}

export type Cmd = InitCmd | PhaseCmd | CloseCmd;

export interface ConnectedEv {
  ev: "connected";
  workerIndex: number;
  ok: number;
  failed: number[];
  ms: number;
  errorSample: string | null;
}

/** What a worker counts of the sends of one kind (messages, or one kind of change). */
export interface SendStats {
  /** Sent inside the window. */
  sent: number;
  acked: number;
  /** Sent but neither acked nor refused when the worker reported. */
  unanswered: number;
  errors: Record<string, number>;
  ackLatency: HistogramData;
  deliveryLatency: HistogramData;
  /** Every frame of this phase that delivered one of them, duplicates included. */
  deliveries: number;
  /** Of which received before the window closed. */
  deliveriesInWindow: number;
}

export interface PhaseStats extends SendStats {
  phase: number;
  windowStart: number;
  windowEnd: number;
  /** The same message (conversation and seq) received twice by one client. */
  duplicates: number;
  /** A client received the message it sent itself (the contract says it must not). */
  echoes: number;
  /** Frames of an earlier phase that came after it was reported. */
  late: number;
  /** `[key, conversationId]` for every ack this worker's senders received; a message's key is
   * `conversationId#seq`, what identifies it to every receiver. */
  acks: [string, string][];
  /** `[key, distinct receiving clients in this worker]`, echoes excluded. */
  received: [string, number][];
  closes: Record<string, number>;
  otherFrames: Record<string, number>;
  /**
   * How late a 10 ms timer fired in this worker during the window: large values mean the
   * generator itself (or the machine under it) stalled, so latency figures are suspect.
   */
  loopLag: HistogramData;
  /** Largest coalesced array seen, and how many server messages were arrays. */
  maxBatch: number;
  batches: number;
  lastEventAt: number;
  /** With `mark`: edits and reactions of the phase (their deliveries are also in `received`). */
  changes?: ChangeStats;
}

export interface PhaseEv {
  ev: "phase";
  workerIndex: number;
  stats: PhaseStats;
}

export interface ClosedEv {
  ev: "closed";
  workerIndex: number;
}

export interface FatalEv {
  ev: "fatal";
  workerIndex: number;
  message: string;
}

export type Ev = ConnectedEv | PhaseEv | ClosedEv | FatalEv;

/** Epoch milliseconds with sub-millisecond precision; comparable across processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
