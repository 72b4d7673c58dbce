/**
 * One WebSocket's life: the `ready` frame, frame size and shape checks, dispatch of client
 * frames to the chat service, and the answers. The route only upgrades and hands over.
 * @module
 */
import type { ChatService } from "../chat/service.ts";
import { TokenBucket } from "../chat/ratelimit.ts";
import { AppError, errorFrame } from "../errors.ts";
import { log, securityEvent } from "../log.ts";
import { observeClose, observeRefused } from "../metrics.ts";
import { hot } from "../metrics_hot.ts";
import { type ClientFrame, CLOSE, LIMITS } from "../protocol.ts";
import { WsConnection } from "./connection.ts";
import { readClientFrame } from "./frames.ts";
import { defaultScheduler } from "./scheduler.ts";
import type { Realtime } from "./engine.ts";

let counter = 0;

/** A connection may send this many frames at once, then this many a second; past it: 1008. */
export const FRAME_BURST = 1000;
export const FRAMES_PER_SECOND = 100;

function byteLength(text: string): number {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: only measure when it could matter.
  return text.length * 3 <= LIMITS.frameMaxBytes
    ? text.length
    : new TextEncoder().encode(text).length;
}

/**
 * Serves an upgraded socket for a signed-in user.
 * @example
 * const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
 * serveSocket(socket, principal, realtime, chat);
 * return response;
 */
export function serveSocket(
  socket: WebSocket,
  who: { userId: string; sessionId: string; addr?: string | null },
  realtime: Realtime,
  chat: ChatService,
): void {
  const conn = new WsConnection(
    `${realtime.isolateId}.${(++counter).toString(36)}`,
    who.userId,
    who.sessionId,
    socket,
    defaultScheduler,
    realtime.queueBudget,
  );
  conn.holdUntilReady();
  let ready = false;
  // Abuse guard over every client frame (sends have their own per-user limit): far above what
  // a client does, even one syncing hundreds of conversations on reconnect.
  const frames = new TokenBucket(FRAME_BURST, FRAMES_PER_SECOND);
  /** Frames that came before `ready` (allocated only when some do). */
  let early: string[] | null = null;
  const openedAt = Date.now();
  let framesIn = 0;

  const fail = (err: unknown, ids: { id?: string; reqId?: string }) => {
    const frame = errorFrame(err, ids);
    observeRefused(frame.error.code);
    if (frame.error.code === "internal") {
      log.error("frame failed", { error: String(err), stack: (err as Error)?.stack });
    }
    conn.reply(frame);
  };

  const handle = async (data: string) => {
    // Draining: frames from now on stay unanswered; the client repeats them after reconnecting.
    if (realtime.drain.draining) return;
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return fail(new AppError("invalid_input", "A frame must be a JSON object."), {});
    }
    let frame: ClientFrame;
    try {
      if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
        throw new AppError("invalid_input", "A frame must be a JSON object.");
      }
      frame = readClientFrame(raw);
    } catch (err) {
      // The ids to echo are read only for a refused frame: most frames are fine.
      const r = raw as { id?: unknown; reqId?: unknown } | null;
      return fail(err, {
        id: typeof r?.id === "string" ? r.id : undefined,
        reqId: typeof r?.reqId === "string" ? r.reqId : undefined,
      });
    }
    try {
      switch (frame.type) {
        case "send": {
          const t0 = performance.now();
          realtime.drain.begin();
          try {
            const ack = await chat.send(conn.userId, frame.conversationId, frame, conn.id);
            conn.reply({
              type: "ack",
              id: ack.id,
              conversationId: ack.conversationId,
              seq: ack.seq,
              ts: ack.ts,
            });
            hot.sendAck.observe((performance.now() - t0) / 1000);
          } finally {
            realtime.drain.done();
          }
          break;
        }
        case "edit":
        case "delete":
        case "react": {
          realtime.drain.begin();
          try {
            const ack = frame.type === "edit"
              ? await chat.edit(conn.userId, frame.conversationId, frame, conn.id)
              : frame.type === "delete"
              ? await chat.deleteMessage(conn.userId, frame.conversationId, frame, conn.id)
              : await chat.react(conn.userId, frame.conversationId, frame, conn.id);
            conn.reply({
              type: "ack",
              id: ack.id,
              conversationId: ack.conversationId,
              seq: ack.seq,
              ts: ack.ts,
              message: ack.message,
            });
          } finally {
            realtime.drain.done();
          }
          break;
        }
        case "sync": {
          const page = await chat.sync(
            conn.userId,
            frame.conversationId,
            frame.afterSeq,
            frame.limit,
          );
          conn.reply({
            type: "messages",
            conversationId: frame.conversationId,
            ...page,
            ...(frame.reqId ? { reqId: frame.reqId } : {}),
          });
          break;
        }
        case "read":
          await chat.read(conn.userId, frame.conversationId, frame.seq, conn.id);
          break;
        case "typing":
          realtime.typing(conn.userId, frame.conversationId);
          break;
        case "ping":
          conn.reply({
            type: "pong",
            ts: Date.now(),
            ...(frame.reqId ? { reqId: frame.reqId } : {}),
          });
          break;
      }
    } catch (err) {
      fail(
        err,
        "id" in frame ? { id: frame.id } : { reqId: "reqId" in frame ? frame.reqId : undefined },
      );
    }
  };

  const addr = who.addr ?? null;
  /** Whether the caps count this socket (until it ends). */
  let counted = false;
  let ended = false;
  socket.onopen = async () => {
    try {
      if (!(await realtime.caps.admit(conn.userId, addr))) {
        return conn.close(CLOSE.tooMany, "too many connections; retry after 30 s");
      }
      counted = true;
      if (ended) {
        counted = false;
        return realtime.caps.release(conn.userId, addr);
      }
      await realtime.connect(conn);
      if (!conn.open) return;
      conn.sendReady({ type: "ready", userId: conn.userId, connectionId: conn.id });
      ready = true;
      const queued = early ?? [];
      early = null;
      for (const data of queued) handle(data);
    } catch (err) {
      log.error("connection set-up failed", { error: String(err) });
      conn.close(1011, "internal error");
    }
  };
  socket.onmessage = (e) => {
    conn.lastHeard = Date.now();
    framesIn++;
    // The size limit holds for every frame, text or binary (a binary frame is never valid, but
    // a big one must still end the connection rather than cost an error frame each).
    const size = typeof e.data === "string"
      ? byteLength(e.data)
      : e.data instanceof ArrayBuffer
      ? e.data.byteLength
      : (e.data as Blob).size;
    if (size > LIMITS.frameMaxBytes) {
      if (conn.open) {
        securityEvent("ws_abuse_closed", { userId: conn.userId, reason: "frame too big" });
      }
      return conn.close(CLOSE.tooBig, "frame too big");
    }
    if (!frames.take()) {
      if (conn.open) {
        securityEvent("ws_abuse_closed", { userId: conn.userId, reason: "too many frames" });
      }
      return conn.close(CLOSE.policy, "too many frames");
    }
    if (typeof e.data !== "string") {
      return fail(new AppError("invalid_input", "Frames must be JSON text messages."), {});
    }
    if (!ready) {
      early ??= [];
      if (early.length < 100) early.push(e.data);
      return;
    }
    handle(e.data);
  };
  // Whichever comes first, the peer's close or ours, ends the connection here (once).
  conn.onEnd = () => {
    ended = true;
    if (counted) realtime.caps.release(conn.userId, addr);
    counted = false;
    realtime.disconnect(conn).catch((err) => log.warn("disconnect failed", { error: String(err) }));
  };
  // The close event comes last (the peer's answer, or the TCP drop after ours): it is logged.
  socket.onclose = (e) => {
    observeClose(e.code);
    log.info("socket closed", {
      connectionId: conn.id,
      userId: conn.userId,
      code: e.code,
      ms: Date.now() - openedAt,
      framesIn,
      framesOut: conn.framesOut,
    });
    conn.end();
  };
  socket.onerror = () => {};
}
