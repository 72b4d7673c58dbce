// deno-lint-ignore-file no-console
/**
 * The conversation list's cost (issue 12): a user in 2,000 conversations (1,900 direct, 100
 * groups, 10 of them over 50 members) asks for the first page of `GET /api/conversations`
 * (through the chat service, as the route does); and a message goes into a group of 5,000.
 * Counts KV reads (entries read by get, getMany and list) and KV writes (mutations committed)
 * through a counting wrapper, and times both on a temporary file KV (SQLite, as in production).
 *
 * Run it against this tree and against another checkout (main before the change), with the
 * same seed and shape:
 *
 *     deno run -A bench/list.ts                 # this tree
 *     deno run -A bench/list.ts --root=/work/main   # another checkout, same scenario
 *
 * The other checkout's own store code seeds its store, so each is measured on its own shapes.
 * @module
 */
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    root: { type: "string", default: new URL("..", import.meta.url).pathname },
    runs: { type: "string", default: "60" },
    seed: { type: "string", default: "12" },
  },
});
const root = args.root!.endsWith("/") ? args.root! : args.root! + "/";
const RUNS = Number(args.runs);

// deno-lint-ignore no-explicit-any
type Any = any;
const mod = (path: string): Promise<Any> => import(`file://${root}${path}`);
const [{ ChatService }, convs, { commitMessages }, { createUser }, { setLogLevel }] = await Promise
  .all([
    mod("lib/chat/service.ts"),
    mod("lib/store/conversations.ts"),
    mod("lib/store/messages.ts"),
    mod("lib/store/users.ts"),
    mod("lib/log.ts"),
  ]);
setLogLevel("error");

/** Counts what goes through a Deno.Kv: entries read and mutations committed. */
class Counter {
  reads = 0;
  writes = 0;
  wrap(kv: Deno.Kv): Deno.Kv {
    return new Proxy(kv, {
      get: (target, prop) => {
        if (prop === "get") {
          return (key: Deno.KvKey, o?: Any) => {
            this.reads++;
            return target.get(key, o);
          };
        }
        if (prop === "getMany") {
          return (keys: Deno.KvKey[], o?: Any) => {
            this.reads += keys.length;
            return target.getMany(keys, o);
          };
        }
        if (prop === "list") {
          return (sel: Deno.KvListSelector, o?: Deno.KvListOptions) => {
            const it = target.list(sel, o);
            return {
              cursor: "",
              next: async () => {
                const r = await it.next();
                if (!r.done) this.reads++;
                return r;
              },
              [Symbol.asyncIterator]() {
                return this;
              },
            };
          };
        }
        if (prop === "atomic") return () => this.#atomic(target.atomic());
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  }
  #atomic(op: Deno.AtomicOperation): Deno.AtomicOperation {
    let n = 0;
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get: (target, prop) => {
        const v = Reflect.get(target, prop);
        if (typeof v !== "function") return v;
        if (prop === "commit") {
          return async () => {
            const res = await target.commit();
            if (res.ok) this.writes += n;
            return res;
          };
        }
        return (...a: unknown[]) => {
          if (["set", "delete", "sum", "min", "max", "enqueue"].includes(prop as string)) n++;
          v.apply(target, a);
          return proxy;
        };
      },
    });
    return proxy;
  }
}

/** Deterministic choices, so both runs build the same scenario. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

const NO_REALTIME = {
  isSubscribed: () => false,
  expectOwn: () => () => {},
  publishMessages: () => {},
  publishEvents: () => {},
};

const dir = await Deno.makeTempDir({ prefix: "parley-bench-list-" });
const raw = await Deno.openKv(`${dir}/kv.sqlite3`);
const counter = new Counter();
const kv = counter.wrap(raw);
try {
  const random = rng(Number(args.seed));
  const t0 = performance.now();
  const me = (await createUser(kv, { username: "bench_me", passwordHash: "x" })).id;
  const others: string[] = [];
  for (let i = 0; i < 1900; i++) {
    others.push((await createUser(kv, { username: `bench_u${i}`, passwordHash: "x" })).id);
  }
  const ids: string[] = [];
  for (const other of others) ids.push((await convs.createDirect(kv, me, other)).conversation.id);
  for (let g = 0; g < 100; g++) {
    const size = g < 10 ? 200 : 10; // 10 groups over 50 members (G = 10), 90 small ones
    const start = Math.floor(random() * (others.length - size));
    ids.push((await convs.createGroup(kv, me, `Group ${g}`, others.slice(start, start + size))).id);
  }
  // One message in each, in a shuffled order, so the list's order is not creation order.
  const order = ids.map((id) => ({ id, k: random() })).sort((a, b) => a.k - b.k);
  for (const { id } of order) {
    await commitMessages(kv, id, [{
      id: crypto.randomUUID(),
      senderId: me,
      kind: "text",
      body: "hello",
    }]);
  }
  const seeded = performance.now() - t0;

  const chat = new ChatService(kv, NO_REALTIME);
  const times: number[] = [];
  let reads = 0, shown = 0;
  for (let i = 0; i < RUNS + 3; i++) {
    counter.reads = 0;
    const t = performance.now();
    const res = await chat.listConversations(me);
    const dt = performance.now() - t;
    const list = Array.isArray(res) ? res : res.conversations;
    if (i >= 3) times.push(dt); // three warm-up calls
    reads = counter.reads;
    shown = list.length;
  }

  // A message into a group of 5,000.
  const members = Array.from({ length: 4999 }, (_, i) => `bench-m${i}`);
  const big = (await convs.createGroup(kv, me, "Everyone", members)).id;
  const commitTimes: number[] = [];
  let writes = 0;
  for (let i = 0; i < RUNS + 3; i++) {
    counter.writes = 0;
    const t = performance.now();
    await commitMessages(kv, big, [{
      id: crypto.randomUUID(),
      senderId: members[i],
      kind: "text",
      body: "hi all",
    }]);
    const dt = performance.now() - t;
    if (i >= 3) commitTimes.push(dt);
    writes = counter.writes;
  }
  // And into a direct chat and a group of 10, for the per-member index's own cost.
  const small = async (convId: string, sender: string) => {
    counter.writes = 0;
    await commitMessages(kv, convId, [{
      id: crypto.randomUUID(),
      senderId: sender,
      kind: "text",
      body: "hi",
    }]);
    return counter.writes;
  };
  const directWrites = await small(ids[0], me);
  const groupWrites = await small(ids[1950], me);

  const f = (n: number) => n.toFixed(2);
  console.log(JSON.stringify({ root, seed: Number(args.seed), seededMs: Math.round(seeded) }));
  console.log(`first page: ${shown} conversations of ${ids.length}`);
  console.log(
    `  p50 ${f(pct(times, 0.5))} ms, p99 ${
      f(pct(times, 0.99))
    } ms, KV reads ${reads} (${RUNS} runs)`,
  );
  console.log(
    `message into a group of 5,000: KV writes ${writes}, commit p50 ${
      f(pct(commitTimes, 0.5))
    } ms, p99 ${f(pct(commitTimes, 0.99))} ms`,
  );
  console.log(`message KV writes: direct chat ${directWrites}, group of 11 ${groupWrites}`);
} finally {
  raw.close();
  await Deno.remove(dir, { recursive: true });
}
