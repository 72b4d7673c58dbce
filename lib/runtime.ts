/**
 * Everything one isolate runs on, built from a configuration and a KV handle: auth, the chat
 * service and the realtime engine. `main.ts` and the tests both build it here.
 * @module
 */
import { AttachmentService } from "./attachments/service.ts";
import { AuthService } from "./auth/service.ts";
import { resolveSecret, TokenSigner } from "./auth/tokens.ts";
import { ChatService } from "./chat/service.ts";
import { conversationView } from "./chat/views.ts";
import type { Config } from "./config.ts";
import { log } from "./log.ts";
import { type GaugeSource, startPublisher } from "./metrics.ts";
import { Realtime } from "./realtime/engine.ts";
import { KvBlobStore } from "./store/blobs.ts";
import { retryStartup } from "./store/kv.ts";
import { ensureSchema } from "./store/schema.ts";
import { buildListIndex } from "./store/inbox_build.ts";
import { AccountService } from "./people/accounts.ts";
import { buildUserSessionIndex } from "./store/sessions.ts";

export interface Runtime {
  config: Config;
  kv: Deno.Kv;
  isolateId: string;
  auth: AuthService;
  chat: ChatService;
  realtime: Realtime;
  attachments: AttachmentService;
  /** A person's own account: profile, avatar, password, sessions, deletion, export, blocks. */
  accounts: AccountService;
  /** What `/metrics` reads from this runtime when it renders or snapshots. */
  gauges: GaugeSource[];
  /** Closes sockets (1001), stops the engine; the caller closes KV. */
  close(): Promise<void>;
}

/** How often each isolate sweeps attachments and blobs. */
const SWEEP_EVERY_MS = 10 * 60 * 1000;

/** Builds and starts a runtime over an open KV handle (which the caller owns). */
export async function createRuntime(config: Config, kv: Deno.Kv): Promise<Runtime> {
  const isolateId = crypto.randomUUID().slice(0, 8);
  // Before anything reads a record: a store newer than this code is refused here.
  // Each start-up step is idempotent, so one that meets another isolate's lock runs again.
  await retryStartup(() =>
    ensureSchema(kv, {
      onStep: (m) => log.info("migrating the store", { from: m.from, step: m.description }),
    })
  );
  const signer = new TokenSigner(
    await retryStartup(() => resolveSecret(kv, config.jwtSecret)),
    config.accessTokenTtlSec,
  );
  // The engine builds `conversation` frames from the same views the service answers with.
  const realtime = new Realtime(kv, config, isolateId, (u, c) => conversationView(kv, u, c));
  const chat = new ChatService(kv, realtime);
  const attachments = new AttachmentService(kv, new KvBlobStore(kv), config);
  // Sessions from before the per-user index get their entries (once; a no-op after).
  await retryStartup(() => buildUserSessionIndex(kv));
  // Conversations from before the list index get their entries (once; a no-op after).
  await retryStartup(() => buildListIndex(kv));
  // Avatars share the blob store and the preview worker with attachments.
  const accounts = new AccountService(kv, attachments.blobs, attachments.previews, realtime);
  await retryStartup(() => realtime.start());
  // Unreferenced uploads and abandoned chunks: every isolate sweeps now and then (the sweep is
  // idempotent, so isolates that overlap only repeat each other's reads).
  const sweeper = setInterval(() => {
    attachments.sweep().catch((err) => log.warn("attachment sweep failed", { error: String(err) }));
  }, SWEEP_EVERY_MS);
  Deno.unrefTimer(sweeper);
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
    auth: new AuthService(
      kv,
      signer,
      config.sessionTtlSec,
      config.registrationsPerHour,
      config.sessionMaxSec,
    ),
    chat,
    realtime,
    attachments,
    accounts,
    gauges,
    close: async () => {
      clearInterval(sweeper);
      attachments.close();
      await realtime.close();
      await stopMetrics();
    },
  };
}
