/**
 * Everything one isolate runs on, built from a configuration and a KV handle: auth, the chat
 * service and the realtime engine. `main.ts` and the tests both build it here.
 * @module
 */
import { AuthService } from "./auth/service.ts";
import { resolveSecret, TokenSigner } from "./auth/tokens.ts";
import { ChatService } from "./chat/service.ts";
import { conversationView } from "./chat/views.ts";
import type { Config } from "./config.ts";
import { Realtime } from "./realtime/engine.ts";
import { buildUserWordIndex } from "./store/users.ts";

export interface Runtime {
  config: Config;
  kv: Deno.Kv;
  isolateId: string;
  auth: AuthService;
  chat: ChatService;
  realtime: Realtime;
  /** Closes sockets (1001), stops the engine; the caller closes KV. */
  close(): Promise<void>;
}

/** Builds and starts a runtime over an open KV handle (which the caller owns). */
export async function createRuntime(config: Config, kv: Deno.Kv): Promise<Runtime> {
  const isolateId = crypto.randomUUID().slice(0, 8);
  const signer = new TokenSigner(
    await resolveSecret(kv, config.jwtSecret),
    config.accessTokenTtlSec,
  );
  // The engine builds `conversation` frames from the same views the service answers with.
  const realtime = new Realtime(kv, config, isolateId, (u, c) => conversationView(kv, u, c));
  const chat = new ChatService(kv, realtime);
  // Users from before the search word index get their entries (once; a no-op after).
  await buildUserWordIndex(kv);
  await realtime.start();
  return {
    config,
    kv,
    isolateId,
    auth: new AuthService(kv, signer, config.sessionTtlSec, config.registrationsPerHour),
    chat,
    realtime,
    close: () => realtime.close(),
  };
}
