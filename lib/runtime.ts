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
import { log } from "./log.ts";
import { type GaugeSource, startPublisher } from "./metrics.ts";
import { Realtime } from "./realtime/engine.ts";
import { ensureSchema } from "./store/schema.ts";

export interface Runtime {
  config: Config;
  kv: Deno.Kv;
  isolateId: string;
  auth: AuthService;
  chat: ChatService;
  realtime: Realtime;
  /** What `/metrics` reads from this runtime when it renders or snapshots. */
  gauges: GaugeSource[];
  /** Closes sockets (1001), stops the engine; the caller closes KV. */
  close(): Promise<void>;
}

/** Builds and starts a runtime over an open KV handle (which the caller owns). */
export async function createRuntime(config: Config, kv: Deno.Kv): Promise<Runtime> {
  const isolateId = crypto.randomUUID().slice(0, 8);
  // Before anything reads a record: a store newer than this code is refused here.
  await ensureSchema(kv, {
    onStep: (m) => log.info("migrating the store", { from: m.from, step: m.description }),
  });
  const signer = new TokenSigner(
    await resolveSecret(kv, config.jwtSecret),
    config.accessTokenTtlSec,
  );
  // The engine builds `conversation` frames from the same views the service answers with.
  const realtime = new Realtime(kv, config, isolateId, (u, c) => conversationView(kv, u, c));
  const chat = new ChatService(kv, realtime);
  await realtime.start();
  const gauges: GaugeSource[] = [
    {
      name: "parley_ws_connections",
      help: "Open WebSocket connections",
      read: () => realtime.hub.size,
    },
    {
      name: "parley_connected_users",
      help: "Users with at least one open WebSocket on this isolate",
      read: () => {
        let n = 0;
        for (const _ of realtime.hub.users()) n++;
        return n;
      },
    },
  ];
  const stopMetrics = startPublisher(kv, isolateId, config.metricsIntervalMs, gauges);
  return {
    config,
    kv,
    isolateId,
    auth: new AuthService(kv, signer, config.sessionTtlSec, config.registrationsPerHour),
    chat,
    realtime,
    gauges,
    close: async () => {
      await realtime.close();
      await stopMetrics();
    },
  };
}
