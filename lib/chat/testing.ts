/**
 * For tests of the chat service: a realtime port with nobody subscribed, which records the
 * events the service publishes (a real port needs the engine; the service's own behaviour does
 * not).
 * @module
 */
import type { Message } from "../protocol.ts";
import type { StreamItem } from "../store/stream.ts";
import type { LoggedEvent } from "../store/records.ts";
import type { RealtimePort } from "./port.ts";

/** A port that records the events the service publishes; nobody is subscribed. */
export class PortRecorder implements RealtimePort {
  events: LoggedEvent["event"][] = [];
  isSubscribed(): boolean {
    return false;
  }
  expectOwn(): () => void {
    return () => {};
  }
  publishMessages(_convId: string, _msgs: Message[]): void {}
  publishItems(_convId: string, _items: StreamItem[]): void {}
  publishEvents(items: LoggedEvent[]): void {
    for (const i of items) this.events.push(i.event);
  }
}
