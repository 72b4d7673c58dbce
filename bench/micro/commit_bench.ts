/**
 * Send commit cost: `commitMessages` (store/messages.ts) for 1 vs 10 vs 48 drafts on
 * `:memory:` and on a temporary file KV, and the full `ChatService.send` path through the
 * SendBatcher with N concurrent sends in one conversation.
 *
 * Per-message cost = time/iter ÷ drafts (see RESULTS.md). Iterations write real messages, so
 * the conversations grow during the run, as they do in production.
 *
 * The send path: the per-user rate limit (30 burst + 10/s, lib/chat/ratelimit.ts) is left
 * untouched; sends rotate over USERS distinct members so no sender comes near it, and a
 * `rate_limited` answer fails the bench instead of being timed.
 * @module
 */
import { loadConfig } from "../../lib/config.ts";
import { setLogLevel } from "../../lib/log.ts";
import { FastBus } from "../../lib/realtime/bus.ts";
import { WsConnection } from "../../lib/realtime/connection.ts";
import { createRuntime, type Runtime } from "../../lib/runtime.ts";
import { createGroup } from "../../lib/store/conversations.ts";
import { keys } from "../../lib/store/keys.ts";
import { type Head } from "../../lib/store/messages.ts";
import {
  commitGroups,
  commitMessages,
  type GuardCache,
  type MemberCache,
} from "../../lib/store/commit.ts";
import { createUser } from "../../lib/store/users.ts";
import {
  atExit,
  type BenchKv,
  body,
  CountingSocket,
  drafts,
  openBenchKv,
  seedDirects,
  seedHead,
} from "./_support.ts";

setLogLevel("error");

// 95 = the most one conversation gets in one commit since SendBatcher's MAX_CHECKS = 96.
const BATCHES = [1, 10, 48, 95] as const;
const CONCURRENCY = [1, 10, 48] as const;
const USERS = 3000;

const mem = await openBenchKv(":memory:");
const file = await openBenchKv("file");

// ---- 1a. commitMessages, store level ------------------------------------------------------

for (const k of [mem, file]) {
  for (const n of BATCHES) {
    const convId = await seedHead(k.kv);
    let head: Deno.KvEntry<Head> | undefined;
    Deno.bench({
      name: `commitMessages ${n} draft${n > 1 ? "s" : ""} [${k.label}]`,
      group: `commit ${k.label}`,
      baseline: n === 1,
      async fn(b) {
        const ds = drafts(n);
        b.start();
        const res = await commitMessages(k.kv, convId, ds, head);
        b.end();
        head = res.head; // as SendBatcher does: the head from the last own commit
      },
    });
  }
  // The batcher's cross-conversation group commit (commitGroups): 48 drafts spread over 8
  // conversations, heads cached, against 48 drafts of one conversation above.
  {
    const convIds = await Promise.all(Array.from({ length: 8 }, () => seedHead(k.kv)));
    let heads = new Map<string, Deno.KvEntry<Head>>();
    Deno.bench({
      name: `commitGroups 8 conversations x 6 drafts [${k.label}]`,
      group: `commit ${k.label}`,
      async fn(b) {
        const groups = convIds.map((convId) => ({ convId, drafts: drafts(6) }));
        b.start();
        const res = await commitGroups(k.kv, groups, heads);
        b.end();
        heads = new Map(res.map((r, i) => [convIds[i], r.head]));
      },
    });
  }
  // The direct scenario's commit (`deno task bench --scenario direct`): one message in each of
  // N direct conversations, as SendBatcher commits them under load: heads, member entries and
  // the peers' block entries cached and checked, both members' list entries moved. 500 pairs in
  // turn, each with 20 messages of history. Messages/s = N / time: the reference of issue 16's
  // direct saturation goal ("the bare KV store with the same group commit"). N = 8 is what the
  // batcher commits at ~1,000 msgs/s; 24 is its cap (96 checks, 4 a direct message), reached
  // once sends queue, so the bare store's most.
  if (k.label === "file") {
    const pairs = await seedDirects(k.kv, 500, 20);
    const heads = new Map<string, Deno.KvEntry<Head>>();
    const members: MemberCache = new Map();
    const guards: GuardCache = new Map();
    let turn = 0;
    for (const n of [8, 24]) {
      Deno.bench({
        name: `commitGroups ${n} direct conversations x 1 draft [${k.label}]`,
        group: `commit ${k.label}`,
        async fn(b) {
          const groups = Array.from({ length: n }, () => {
            const p = pairs[turn++ % pairs.length];
            const [senderId, peer] = turn % 2 ? p.users : [p.users[1], p.users[0]];
            const [d] = drafts(1, 40);
            return {
              convId: p.convId,
              drafts: [{ ...d, senderId, absent: keys.block(peer, senderId) }],
            };
          });
          b.start();
          const res = await commitGroups(k.kv, groups, heads, members, guards);
          b.end();
          res.forEach((r, i) => heads.set(groups[i].convId, r.head));
        },
      });
    }
  }
  // What a send costs when the head is not cached (cold conversation): one extra KV read
  // before the commit.
  for (const n of [1, 48]) {
    const convId = await seedHead(k.kv);
    Deno.bench({
      name: `commitMessages ${n} draft${n > 1 ? "s" : ""}, head read first [${k.label}]`,
      group: `commit ${k.label}`,
      async fn(b) {
        const ds = drafts(n);
        b.start();
        await commitMessages(k.kv, convId, ds);
        b.end();
      },
    });
  }
  // Another isolate wrote in between (`deno serve --parallel`, two isolates sending into one
  // conversation): the cached head is stale, the commit fails its check, and commitMessages
  // then reads the idempotency index of every pending id and the head before committing again.
  {
    const convId = await seedHead(k.kv);
    let head: Deno.KvEntry<Head> | undefined;
    Deno.bench({
      name: `commitMessages 48 drafts, stale cached head [${k.label}]`,
      group: `commit ${k.label}`,
      async fn(b) {
        await commitMessages(k.kv, convId, drafts(1)); // "the other isolate", untimed
        const ds = drafts(48);
        b.start();
        const res = await commitMessages(k.kv, convId, ds, head);
        b.end();
        head = res.head;
      },
    });
  }
}

// ---- 1a'. where a 48-message commit's time goes (:memory:) --------------------------------
// The same atomic commit built by hand, piece by piece: the message sets alone, plus the
// idempotency sets, plus the idempotency checks (= what commitMessages sends), and the
// BroadcastChannel post the engine makes after every commit (lib/realtime/bus.ts FastBus).

{
  const kv = mem.kv;
  const anatomy = async (
    b: Deno.BenchContext,
    convId: string,
    state: { seq: number },
    withIdemSet: boolean,
    withIdemCheck: boolean,
    idemAsNumber = false,
  ) => {
    const ds = drafts(48);
    b.start();
    const ts = Date.now();
    let op = kv.atomic();
    let last = null;
    for (const d of ds) {
      const m = { ...d, conversationId: convId, seq: ++state.seq, ts };
      last = m;
      op = op.set(keys.message(convId, m.seq), m);
      if (withIdemCheck) op = op.check({ key: keys.idem(convId, m.id), versionstamp: null });
      if (withIdemSet) {
        op = op.set(
          keys.idem(convId, m.id),
          idemAsNumber ? m.seq : { seq: m.seq, ts, senderId: m.senderId },
        );
      }
    }
    op = op.set(keys.head(convId), { seq: state.seq, ts, last });
    const res = await op.commit();
    b.end();
    if (!res.ok) throw new Error("anatomy commit failed");
  };
  const variants: [string, boolean, boolean][] = [
    ["48 message sets + head (no idempotency)", false, false],
    ["48 messages + 48 idem sets", true, false],
    ["48 messages + 48 idem sets + 48 idem checks", true, true],
  ];
  for (const [label, set, check] of variants) {
    const convId = await seedHead(kv);
    const state = { seq: 0 };
    Deno.bench({
      name: `atomic ${label} [:memory:]`,
      group: "commit anatomy :memory:",
      baseline: !set,
      // Must be an async function itself: `deno bench` only awaits those.
      async fn(b) {
        await anatomy(b, convId, state, set, check);
      },
    });
  }
  {
    // The same, with the idempotency value shrunk to the bare seq (ts and senderId are in the
    // message itself): does value size matter, or only the number of mutations?
    const convId = await seedHead(kv);
    const state = { seq: 0 };
    Deno.bench({
      name: "atomic 48 messages + 48 idem sets (value: seq only) + 48 checks [:memory:]",
      group: "commit anatomy :memory:",
      async fn(b) {
        await anatomy(b, convId, state, true, true, true);
      },
    });
  }
  const bus = new FastBus<unknown>("parley-micro-anatomy", true, () => {});
  const msgs = drafts(48).map((d, i) => ({ ...d, conversationId: "c", seq: i + 1, ts: 0 }));
  Deno.bench({
    name: "FastBus.post of 48 messages (BroadcastChannel)",
    group: "commit anatomy :memory:",
    fn() {
      bus.post({ t: "m", convId: "c", msgs });
    },
  });
  atExit(() => bus.close());
}

// ---- 1b. ChatService.send through the batcher ------------------------------------------------

interface SendRig {
  k: BenchKv;
  rt: Runtime;
  userIds: string[];
  /** Group whose members have no local socket: `send` reads the member record first. */
  convCold: string;
  /** Group whose members all hold a (stand-in) socket here: the WebSocket path, no read. */
  convSubscribed: string;
  next: number;
  sent: Map<string, number>;
  atomics: number;
  commitsSeen: Map<string, { iters: number; commits: number; msgs: number }>;
}

async function buildRig(k: BenchKv): Promise<SendRig> {
  // Count atomic operations (one per commit) to report how well the batcher groups sends.
  const kv = k.kv;
  const atomic = kv.atomic.bind(kv);
  const rig = { atomics: 0 } as SendRig;
  kv.atomic = () => {
    rig.atomics++;
    return atomic();
  };
  const rt = await createRuntime(
    loadConfig({ KV_PATH: ":memory:", LOG_LEVEL: "error", HEARTBEAT_TIMEOUT_MS: "86400000" }),
    kv,
  );
  const userIds: string[] = [];
  for (let i = 0; i < USERS; i += 100) {
    const made = await Promise.all(
      Array.from(
        { length: Math.min(100, USERS - i) },
        (_, j) => createUser(kv, { username: `bench_${i + j}`, passwordHash: "not-a-real-hash" }),
      ),
    );
    userIds.push(...made.map((u) => u.id));
  }
  const convCold = (await createGroup(kv, userIds[0], "cold", userIds.slice(1))).id;
  const convSubscribed = (await createGroup(kv, userIds[0], "subscribed", userIds.slice(1))).id;
  // Let the engine apply the member_added events while no user is local (nothing to follow),
  // then give every user a stand-in socket subscribed to the second group only. No stream is
  // followed, so publishMessages delivers to nobody: this isolates send from fan-out.
  await new Promise((r) => setTimeout(r, 300));
  for (const userId of userIds) {
    const sock = new CountingSocket() as unknown as WebSocket;
    rt.realtime.hub.add(new WsConnection(`c-${userId}`, userId, "s", sock));
    rt.realtime.hub.subscribe(userId, [convSubscribed]);
  }
  return Object.assign(rig, {
    k,
    rt,
    userIds,
    convCold,
    convSubscribed,
    next: 0,
    sent: new Map<string, number>(),
    commitsSeen: new Map(),
  });
}

const rigs = [await buildRig(mem), await buildRig(file)];
const text = body(200);

for (const rig of rigs) {
  for (const [which, convId] of [["cold", rig.convCold], ["subscribed", rig.convSubscribed]]) {
    for (const n of CONCURRENCY) {
      const name = `send x${n} concurrent, ${which} [${rig.k.label}]`;
      Deno.bench({
        name,
        group: `send ${which} ${rig.k.label}`,
        baseline: n === 1,
        async fn(b) {
          const senders = Array.from(
            { length: n },
            () => rig.userIds[rig.next++ % rig.userIds.length],
          );
          const ids = senders.map(() => crypto.randomUUID());
          const before = rig.atomics;
          b.start();
          const acks = await Promise.all(
            senders.map((u, i) => rig.rt.chat.send(u, convId, { id: ids[i], body: text }, null)),
          );
          b.end();
          const stat = rig.commitsSeen.get(name) ?? { iters: 0, commits: 0, msgs: 0 };
          stat.iters++;
          stat.commits += rig.atomics - before;
          stat.msgs += acks.length;
          rig.commitsSeen.set(name, stat);
          for (const u of senders) rig.sent.set(u, (rig.sent.get(u) ?? 0) + 1);
        },
      });
    }
  }
}

atExit(() => {
  const lines: string[] = ["", "send path: KV commits per iteration (group-commit efficiency)"];
  for (const rig of rigs) {
    for (const [name, s] of rig.commitsSeen) {
      lines.push(
        `  ${name}: ${(s.commits / s.iters).toFixed(2)} commits/iter, ` +
          `${(s.msgs / s.commits).toFixed(1)} msgs/commit over ${s.iters} iters`,
      );
    }
    const most = Math.max(0, ...rig.sent.values());
    lines.push(`  [${rig.k.label}] most sends by one user: ${most} (rate limit: 30 burst + 10/s)`);
  }
  Deno.stderr.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
  for (const rig of rigs) void rig.rt.close();
  mem.close();
  file.close();
});
