/**
 * Message changes (edit, delete, react) and what sends need of them (mentions, replies):
 * authorize → idempotency → one atomic commit under the stream's next seq (store/changes.ts)
 * → ack with the message → `update` to every other connection. Kept apart from the send path,
 * whose per-message cost they must not raise: text sends read nothing for mentions unless the
 * body holds an `@`, and nothing for replies unless they answer one.
 * @module
 */
import { AppError, notFound } from "../errors.ts";
import { mayManage } from "../roles.ts";
import { LIMITS, type Message, type ReplyTo } from "../protocol.ts";
import { type ChangeOp, commitChange, listReactions } from "../store/changes.ts";
import type { BlobStore } from "../store/blobs.ts";
import { getMember } from "../store/conversations.ts";
import { keys } from "../store/keys.ts";
import { getMany, retry } from "../store/kv.ts";
import { excerptOf, type Head, present } from "../store/messages.ts";
import type { HeadLane } from "./sender.ts";
import type { MemberRecord } from "../store/records.ts";
import type { RealtimePort } from "./port.ts";
import { type Limiter, SharedRateLimiter } from "./ratelimit.ts";

/** The answer to a change: the ack fields, with the message after it. */
export interface ChangeAck {
  id: string;
  conversationId: string;
  seq: number;
  ts: number;
  message: Message;
  /** True for a retry of a stored change, and for a change that changed nothing. */
  duplicate: boolean;
}

/** `@username` where a username may stand (3–32 of `[a-z0-9_]`, not inside a word or address). */
const MENTION = /(?<![\p{L}\p{N}_@.])@([a-z0-9_]{3,32})(?![a-z0-9_])/giu;

/**
 * The members a body names as `@username`, at most 50, in order of first mention. Reads KV
 * only when the body holds an `@`.
 */
export async function resolveMentions(kv: Deno.Kv, convId: string, body: string) {
  if (!body.includes("@")) return [];
  const names = [...new Set([...body.matchAll(MENTION)].map((m) => m[1].toLowerCase()))]
    .slice(0, LIMITS.mentionsMax * 2);
  if (!names.length) return [];
  const ids = await getMany<string>(kv, names.map((n) => keys.userByName(n)));
  const userIds = [...new Set(ids.flatMap((e) => (e.value ? [e.value] : [])))];
  const members = await getMany<MemberRecord>(kv, userIds.map((u) => keys.member(convId, u)));
  return userIds.filter((_, i) => members[i].value).slice(0, LIMITS.mentionsMax);
}

/**
 * What a reply quotes: the original's seq, sender and excerpt.
 * @throws AppError `invalid_input` field `replyTo` when the seq is no message of the
 * conversation, a group change, or deleted.
 */
export async function resolveReply(kv: Deno.Kv, convId: string, seq: number): Promise<ReplyTo> {
  const m = (await retry(() => kv.get<Message>(keys.message(convId, seq)))).value;
  if (!m || m.kind === "system" || m.deleted) {
    throw new AppError(
      "invalid_input",
      "replyTo must be the seq of a message in this conversation that is not deleted.",
      { field: "replyTo" },
    );
  }
  return { seq, senderId: m.senderId, excerpt: excerptOf(m) };
}

/** A text's edit must keep some text; a caption may become empty. */
function checkEditBody(target: Message, body: string): void {
  if (target.kind === "text" && !body.trim()) {
    throw new AppError("invalid_input", "body must not be empty: delete the message instead.", {
      field: "body",
    });
  }
}

export class Changing {
  /**
   * Per conversation, the last change commit this isolate started: changes to one conversation
   * commit here one after another. Each takes the head's next seq, so any two in flight at once
   * make all but one fail the head check and go again, and under load those retries piled up
   * (in the fan-out benchmark 127 changes took 2,039 failed commits, which starved the message
   * batch of the single KV writer: docs/benchmarks.md, "Issue 11: changes in the fan-out").
   * Taken in turn they also store in the order they were made.
   */
  #lanes = new Map<string, Promise<unknown>>();

  /** @param lane the send batcher's: while a change commits, no message commit of this isolate
   * touches the conversation (both take the head's next seq), and the batcher learns the head
   * written here, so its next commit does not fail the head check and read it again.
   * @param limiter changes per user over the whole server (edits, deletes and reactions
   * together): a burst of 30, then 10 a second, like sends, so a script cannot fill a
   * conversation's stream with toggles. */
  constructor(
    private kv: Deno.Kv,
    private realtime: RealtimePort,
    private blobs: BlobStore,
    private lane: HeadLane,
    private limiter: Limiter = new SharedRateLimiter(kv, "change", 30, 10),
  ) {}

  /**
   * Edits a message (its sender only); the body is checked like a new one and its mentions are
   * recomputed (without notifying anyone).
   * @throws AppError `not_found`, `forbidden`, `invalid_input`, `conflict`
   */
  async edit(
    actorId: string,
    convId: string,
    input: { id: string; seq: number; body?: string },
    originConnId: string | null,
  ): Promise<ChangeAck> {
    if (input.body === undefined) {
      throw new AppError("invalid_input", "body is required.", { field: "body" });
    }
    const body = input.body;
    const mentions = await resolveMentions(this.kv, convId, body);
    return await this.#change(actorId, convId, input, { op: "edit", body, mentions }, (t) => {
      if (t.senderId !== actorId) {
        throw new AppError("forbidden", "Only its sender can edit a message.");
      }
      checkEditBody(t, body);
    }, originConnId);
  }

  /**
   * Deletes a message (its sender, or a group's owner or an admin): the body and the
   * attachment are erased from storage in the change's commit.
   * @throws AppError `not_found`, `forbidden`, `conflict`
   */
  delete(
    actorId: string,
    convId: string,
    input: { id: string; seq: number },
    originConnId: string | null,
  ): Promise<ChangeAck> {
    return this.#change(actorId, convId, input, { op: "delete" }, (t, actor) => {
      if (t.senderId !== actorId && !mayManage(actor.role)) {
        throw new AppError(
          "forbidden",
          "Only its sender, or the group's owner or an admin, can delete a message.",
        );
      }
    }, originConnId);
  }

  /**
   * Turns the caller's reaction with one emoji on or off (any member).
   * @throws AppError `not_found`, `invalid_input` (more than 20 distinct emoji), `conflict`
   */
  react(
    actorId: string,
    convId: string,
    input: { id: string; seq: number; emoji: string; on: boolean },
    originConnId: string | null,
  ): Promise<ChangeAck> {
    const change: ChangeOp = { op: "react", emoji: input.emoji, on: input.on };
    return this.#change(actorId, convId, input, change, () => {}, originConnId);
  }

  /** Every reaction on a message with every user id, for a member. */
  async reactions(userId: string, convId: string, seq: number) {
    if (!(await getMember(this.kv, convId, userId))) throw notFound();
    const m = (await retry(() => this.kv.get<Message>(keys.message(convId, seq)))).value;
    if (!m || m.kind === "system" || m.deleted) {
      throw new AppError("not_found", "That message does not exist or was deleted.");
    }
    return await listReactions(this.kv, convId, seq);
  }

  async #change(
    actorId: string,
    convId: string,
    input: { id: string; seq: number },
    change: ChangeOp,
    authorize: (target: Message, actor: MemberRecord) => void,
    originConnId: string | null,
  ): Promise<ChangeAck> {
    const taken = this.limiter.take(actorId);
    const wait = typeof taken === "number" ? taken : await taken;
    // A retry of a change already stored is answered whatever the rate: it costs nothing.
    if (wait > 0 && !(await getMany(this.kv, [keys.idem(convId, input.id)]))[0].value) {
      throw new AppError(
        "rate_limited",
        "You are changing messages too fast. Slow down a little.",
        {
          retryAfterMs: wait,
        },
      );
    }
    const forget = originConnId ? this.realtime.expectOwn(convId, input.id, originConnId) : null;
    let res;
    try {
      res = await this.#inTurn(convId, async () => {
        await this.lane.hold(convId);
        let head: Deno.KvEntry<Head> | undefined;
        try {
          const out = await commitChange(
            this.kv,
            this.blobs,
            convId,
            actorId,
            input.id,
            input.seq,
            change,
            authorize,
          );
          if (out.kind === "stored") head = out.head;
          return out;
        } finally {
          this.lane.release(convId, head);
        }
      });
    } catch (err) {
      forget?.();
      // A refused change (not found, forbidden, bad input) took no seq: nor does it take a token.
      if (wait === 0) this.limiter.refund(actorId);
      throw err;
    }
    // A retry or a change that changes nothing stores nothing: its token goes back.
    if (res.kind !== "stored" && wait === 0) this.limiter.refund(actorId);
    const ack = (seq: number, ts: number, message: Message, duplicate: boolean) => ({
      id: input.id,
      conversationId: convId,
      seq,
      ts,
      message,
      duplicate,
    });
    if (res.kind !== "stored") {
      forget?.();
      const [message] = await present(this.kv, convId, [res.message]);
      if (res.kind === "noop") return ack(message.version, Date.now(), message, true);
      return ack(res.seq, res.ts, message, true);
    }
    // The excerpt of a reply, as every served copy carries it (the stored one has none).
    const message = res.message.replyTo
      ? { ...res.message, replyTo: (await present(this.kv, convId, [res.message]))[0].replyTo }
      : res.message;
    this.realtime.publishItems(convId, [{ seq: res.seq, message, changeId: input.id }]);
    return ack(res.seq, res.ts, message, false);
  }

  /** Runs `commit` after every change commit of `convId` started before it has settled. */
  #inTurn<T>(convId: string, commit: () => Promise<T>): Promise<T> {
    const run = (this.#lanes.get(convId) ?? Promise.resolve()).then(commit, commit);
    const tail = run.then(() => {}, () => {});
    this.#lanes.set(convId, tail);
    tail.then(() => {
      if (this.#lanes.get(convId) === tail) this.#lanes.delete(convId);
    });
    return run;
  }
}
