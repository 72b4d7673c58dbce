/**
 * The fast path between isolates: BroadcastChannel, which may lose events. The path that does
 * not is a KV watch on small head keys (lib/store/watch.ts), so delivery stays correct with the
 * channel switched off.
 * @module
 */
import { log } from "../log.ts";

/** The fast path: a BroadcastChannel, or nothing when switched off. */
export class FastBus<T> {
  #channel: BroadcastChannel | null;

  constructor(name: string, enabled: boolean, onEvent: (event: T) => void) {
    this.#channel = enabled ? new BroadcastChannel(name) : null;
    if (this.#channel) {
      this.#channel.onmessage = (e: MessageEvent<T>) => onEvent(e.data);
    }
  }

  post(event: T): void {
    try {
      this.#channel?.postMessage(event);
    } catch (err) {
      log.warn("broadcast failed", { error: String(err) });
    }
  }

  close(): void {
    this.#channel?.close();
    this.#channel = null;
  }
}
