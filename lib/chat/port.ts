/**
 * What the chat service needs of the realtime engine, and no more: the service declares it and
 * the engine implements it, so the service can be built and tested without an engine, and
 * neither module imports the other.
 * @module
 */
import type { Message } from "../protocol.ts";
import type { StreamItem } from "../store/stream.ts";
import type { LoggedEvent } from "../store/records.ts";

export interface RealtimePort {
  /** Whether this isolate holds `userId` subscribed to `convId`: a member, known without a KV
   * read (a removal applied here unsubscribes at once). */
  isSubscribed(userId: string, convId: string): boolean;
  /**
   * Notes, before a send is committed, which connection sent it: that connection does not get
   * the message back. Returns a function that forgets the note when the send stores nothing.
   */
  expectOwn(convId: string, messageId: string, connId: string): () => void;
  /** Messages just committed here, for every member's connections on every isolate. */
  publishMessages(convId: string, msgs: Message[]): void;
  /** A change just committed here (`update` frames), or any stream positions, likewise. */
  publishItems(convId: string, items: StreamItem[]): void;
  /** Events just appended to the log here; membership ones take effect here at once. */
  publishEvents(items: LoggedEvent[]): void;
}
