/**
 * History page reads on a temporary FILE KV holding one conversation of 100,000 messages
 * (seeded once per run through `commitMessages` in batches of 48, as the batcher writes them):
 * `messagesBefore` / `messagesAfter` (lib/store/messages.ts) at random seqs. `deno bench`
 * prints avg/p75/p99; the medians are measured alongside and printed at the end.
 * @module
 */
import { LIMITS } from "../../lib/protocol.ts";
import { keys } from "../../lib/store/keys.ts";
import { type Head, messagesAfter, messagesBefore } from "../../lib/store/messages.ts";
import { commitMessages } from "../../lib/store/commit.ts";
import { atExit, drafts, median, openBenchKv, prng, seedHead } from "./_support.ts";

const TOTAL = 100_000;
const BATCH = 48;
const PAGE = LIMITS.pageDefault; // 50

const kvh = await openBenchKv("file");
const kv = kvh.kv;
const convId = await seedHead(kv);
const seedStart = performance.now();
let head: Deno.KvEntry<Head> | undefined;
for (let done = 0; done < TOTAL; done += BATCH) {
  // 100-char bodies from 20 senders: a plausible mix, and it keeps the seed under a minute.
  head = (await commitMessages(kv, convId, drafts(Math.min(BATCH, TOTAL - done), 100, 20), head))
    .head;
}
const seedMs = performance.now() - seedStart;
if (head!.value.seq !== TOTAL) throw new Error(`seeded ${head!.value.seq}, wanted ${TOTAL}`);
const kvBytes = Deno.statSync(kvh.path!).size;

const rand = prng(42);
const randomSeq = () => PAGE + 1 + Math.floor(rand() * (TOTAL - 2 * PAGE - 2));
const samples = new Map<string, number[]>();

function timed(name: string, baseline: boolean, run: () => Promise<number>) {
  samples.set(name, []);
  Deno.bench({
    name,
    group: "history (file KV, 100k msgs)",
    baseline,
    async fn(b) {
      b.start();
      const t0 = performance.now();
      const got = await run();
      const dt = performance.now() - t0;
      b.end();
      samples.get(name)!.push(dt);
      if (got === 0) throw new Error(`${name}: empty page`);
    },
  });
}

timed("kv.get one message (random seq)", true, async () => {
  const e = await kv.get(keys.message(convId, randomSeq()));
  return e.value ? 1 : 0;
});
timed(`messagesBefore(random seq, ${PAGE})`, false, async () => {
  return (await messagesBefore(kv, convId, randomSeq(), PAGE)).messages.length;
});
timed(`messagesAfter(random seq, ${PAGE})`, false, async () => {
  return (await messagesAfter(kv, convId, randomSeq(), PAGE)).messages.length;
});
timed(`messagesBefore(null, ${PAGE}) (latest page)`, false, async () => {
  return (await messagesBefore(kv, convId, null, PAGE)).messages.length;
});
timed(`messagesAfter(random seq, ${LIMITS.syncMax}) (a full sync page)`, false, async () => {
  return (await messagesAfter(kv, convId, randomSeq(), LIMITS.syncMax)).messages.length;
});

atExit(() => {
  const lines = [
    "",
    `history: seeded ${TOTAL} messages in ${(seedMs / 1000).toFixed(1)} s ` +
    `(${Math.ceil(TOTAL / BATCH)} commits of ${BATCH}); KV file ${
      (kvBytes / 1048576).toFixed(1)
    } MiB (main db file, WAL excluded)`,
  ];
  for (const [name, xs] of samples) {
    if (xs.length) {
      lines.push(`  median ${(median(xs) * 1000).toFixed(1)} µs  ${name}  (n=${xs.length})`);
    }
  }
  Deno.stderr.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
  kvh.close();
});
