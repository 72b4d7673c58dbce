/**
 * The send path: authorize, answer repeats from the ack cache, rate limit, then group commit
 * (sender.ts) and publish; an image or file message takes a commit of its own that also claims
 * its upload (`commitAttachmentMessage`), so text sends pay nothing for attachments. Kept apart from the rest of the chat service because it is the one
 * path that runs per message.
 * @module
 */
import { toAttachment } from "../attachments/service.ts";
import { AppError, notFound } from "../errors.ts";
import type { MessageKind, ReplyTo } from "../protocol.ts";
import { type AttachmentDraft, commitAttachmentMessage } from "../store/attachments.ts";
import { getMember } from "../store/conversations.ts";
import { getIdem } from "../store/messages.ts";
import { checkSendShape } from "../validate.ts";
import { resolveMentions, resolveReply } from "./changes.ts";
import type { RealtimePort } from "./port.ts";
import { type Limiter, SharedRateLimiter } from "./ratelimit.ts";
import { type HeadLane, SendBatcher, type SendOutcome } from "./sender.ts";
import { SendBlocks } from "./blocking.ts";

/** The answer to a send: the contract's ack fields. */
export interface Ack {
  id: string;
  conversationId: string;
  seq: number;
  ts: number;
  /** True when this id was stored before: the first ack, repeated. */
  duplicate: boolean;
}

/** Acks remembered for repeats (the most recent ones). */
const ACK_CACHE = 50_000;

export class Sending {
  #batcher: SendBatcher;
  #acks = new Map<string, { seq: number; ts: number; senderId: string }>();
  #blocks: SendBlocks;

  /** @param limiter sends per user over the whole server: a burst of 30, then 10 a second
   * (tests pass their own). */
  constructor(
    private kv: Deno.Kv,
    private realtime: RealtimePort,
    private limiter: Limiter = new SharedRateLimiter(kv, "send", 30, 10),
  ) {
    this.#blocks = new SendBlocks(kv);
    this.#batcher = new SendBatcher(kv, (convId, msgs) => {
      for (const m of msgs) this.#rememberAck(convId, m.id, m);
      realtime.publishMessages(convId, msgs);
    });
  }

  #rememberAck(convId: string, id: string, rec: { seq: number; ts: number; senderId: string }) {
    const key = convId + "\u0000" + id;
    this.#acks.set(key, { seq: rec.seq, ts: rec.ts, senderId: rec.senderId });
    if (this.#acks.size > ACK_CACHE) this.#acks.delete(this.#acks.keys().next().value!);
  }

  #ackOf(
    convId: string,
    id: string,
    rec: { seq: number; ts: number; senderId: string; op?: string },
    senderId: string,
    duplicate: boolean,
  ): Ack {
    if (rec.senderId !== senderId || rec.op !== undefined) {
      throw new AppError(
        "conflict",
        "That message id was already used by someone else in this conversation.",
      );
    }
    return { id, conversationId: convId, seq: rec.seq, ts: rec.ts, duplicate };
  }

  /**
   * Sends a message: validate → authorize → idempotency → rate limit → store atomically →
   * publish. A resend of a stored id gets the first ack and costs no rate-limit token.
   * @throws AppError `not_found`, `conflict`, `rate_limited`
   */
  async send(
    senderId: string,
    convId: string,
    input: {
      id: string;
      body?: string;
      kind?: MessageKind;
      attachmentId?: string;
      replyTo?: number;
    },
    originConnId: string | null,
  ): Promise<Ack> {
    checkSendShape(input);
    if (!this.realtime.isSubscribed(senderId, convId)) {
      if (!(await getMember(this.kv, convId, senderId))) throw notFound();
    }
    const cached = this.#acks.get(convId + "\u0000" + input.id);
    if (cached) return this.#ackOf(convId, input.id, cached, senderId, true);
    const attachment = input.kind === "image" || input.kind === "file";
    // A text send's block check rides in its commit; an attachment's is a read.
    const absent = attachment ? null : await this.#blocks.guard(senderId, convId);
    if (attachment) await this.#blocks.check(senderId, convId);
    const taken = this.limiter.take(senderId);
    // Mostly a number (tokens leased earlier): no extra turn of the event loop then.
    const wait = typeof taken === "number" ? taken : await taken;
    if (wait > 0) {
      const known = (await getIdem(this.kv, convId, [input.id])).get(input.id);
      if (known) return this.#ackOf(convId, input.id, known, senderId, true);
      throw new AppError("rate_limited", "You are sending messages too fast. Slow down a little.", {
        retryAfterMs: wait,
      });
    }
    const forget = originConnId ? this.realtime.expectOwn(convId, input.id, originConnId) : null;
    let outcome;
    try {
      const body = input.body ?? "";
      // Replies and mentions cost reads; a plain text send reads nothing more.
      let replyTo: ReplyTo | null = null, mentions: string[] = [];
      if (input.replyTo !== undefined || body.includes("@")) {
        [replyTo, mentions] = await Promise.all([
          input.replyTo === undefined ? null : resolveReply(this.kv, convId, input.replyTo),
          resolveMentions(this.kv, convId, body),
        ]);
      }
      outcome = attachment
        ? await this.#sendAttachment(convId, {
          id: input.id,
          senderId,
          kind: input.kind === "image" ? "image" : "file",
          body,
          attachmentId: input.attachmentId!,
          replyTo,
          mentions,
        })
        : await this.#batcher.submit(convId, {
          id: input.id,
          senderId,
          kind: "text",
          body,
          ...(replyTo ? { replyTo } : {}),
          ...(mentions.length ? { mentions } : {}),
          ...(absent ? { absent } : {}),
        });
    } catch (err) {
      // A refused attachment (not the sender's, already sent…) or a blocked send costs no
      // rate-limit token.
      if (err instanceof AppError && (err.code === "invalid_input" || err.code === "forbidden")) {
        this.limiter.refund(senderId);
      }
      forget?.();
      throw err;
    }
    // Stored now, and by this sender: the one outcome where the sender's note must stay.
    if ("stored" in outcome && outcome.stored.senderId === senderId) {
      return this.#ackOf(convId, input.id, outcome.stored, senderId, false);
    }
    forget?.();
    if ("stored" in outcome) return this.#ackOf(convId, input.id, outcome.stored, senderId, true);
    this.limiter.refund(senderId);
    this.#rememberAck(convId, input.id, outcome.existing);
    return this.#ackOf(convId, input.id, outcome.existing, senderId, true);
  }

  /** The send batcher's lane for commits that write a head outside it (changes). */
  get lane(): HeadLane {
    return this.#batcher;
  }

  /**
   * An image or file message: stored together with the claim on its upload, in one commit of
   * its own (see `commitAttachmentMessage`), then published like any message.
   */
  async #sendAttachment(convId: string, draft: AttachmentDraft): Promise<SendOutcome> {
    const res = await commitAttachmentMessage(this.kv, convId, draft, toAttachment);
    if ("existing" in res) return res;
    this.#batcher.noteHead(convId, res.head);
    this.#rememberAck(convId, res.stored.id, res.stored);
    this.realtime.publishMessages(convId, [res.stored]);
    return { stored: res.stored };
  }
}
