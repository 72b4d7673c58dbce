/**
 * A fake `Connection` for the engine's unit tests (never imported by server code): it records
 * the frames it is handed and how it was closed, as a client would see them.
 * @module
 */
import type { ServerFrame } from "../protocol.ts";
import type { Connection } from "./connection.ts";

export class FakeConnection implements Connection {
  frames: string[] = [];
  closedWith: number | null = null;
  lastHeard = Date.now();

  constructor(readonly id: string, readonly userId: string, readonly sessionId = "s-" + id) {}

  get open(): boolean {
    return this.closedWith === null;
  }

  sendRaw(frame: string): void {
    if (this.open) this.frames.push(frame);
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  reply(frame: ServerFrame): void {
    this.send(frame);
  }

  close(code: number): void {
    this.closedWith ??= code;
  }

  /** The frames received, parsed. */
  // deno-lint-ignore no-explicit-any
  parsed(): any[] {
    return this.frames.map((f) => JSON.parse(f));
  }
}
