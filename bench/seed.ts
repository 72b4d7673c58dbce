/**
 * Seeds Parley's KV file directly, before its server starts: users and sessions through the
 * store's own functions (one precomputed password hash for all, since scrypt per user would
 * dominate set-up), access tokens signed with the server's JWT secret, and for the history
 * scenario a conversation of many messages written in atomic batches.
 * @module
 */
import { hashPassword } from "../lib/auth/password.ts";
import { TokenSigner } from "../lib/auth/tokens.ts";
import { createGroup } from "../lib/store/conversations.ts";
import { keys } from "../lib/store/keys.ts";
import type { Head } from "../lib/store/messages.ts";
import { createSession } from "../lib/store/sessions.ts";
import { createUser } from "../lib/store/users.ts";
import { type Message, unchanged } from "../lib/protocol.ts";

export interface SeededUser {
  userId: string;
  token: string;
}

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>) {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

/** Creates `count` users `bench_<i>` with a session and a signed access token each. */
export async function seedUsers(
  kv: Deno.Kv,
  count: number,
  secret: string,
  ttlSec: number,
): Promise<SeededUser[]> {
  const passwordHash = await hashPassword("bench-password-not-secret");
  const signer = new TokenSigner(secret, ttlSec);
  return await pool(count, 32, async (i) => {
    const user = await createUser(kv, {
      username: `bench_${i}`,
      displayName: `Bench ${i}`,
      passwordHash,
    });
    const { session } = await createSession(kv, user.id, ttlSec);
    const token = await signer.sign({ userId: user.id, sessionId: session.id });
    return { userId: user.id, token };
  });
}

/**
 * Creates a group owned by `ownerId` holding `count` messages (seq 1..count), each stored with
 * its idempotency entry as the server would, in atomic commits of at most 500 sets.
 * Returns the conversation id.
 */
export async function seedHistory(
  kv: Deno.Kv,
  ownerId: string,
  count: number,
  progress?: (done: number) => void,
): Promise<string> {
  const conv = await createGroup(kv, ownerId, "bench history", []);
  const perCommit = 250; // two sets per message
  const t0 = Date.now() - count; // one message per millisecond, ending now
  const commits = Math.ceil(count / perCommit);
  let last: Message | null = null;
  await pool(commits, 4, async (c) => {
    let op = kv.atomic();
    const from = c * perCommit + 1;
    const to = Math.min(count, from + perCommit - 1);
    for (let seq = from; seq <= to; seq++) {
      const m: Message = {
        id: crypto.randomUUID(),
        conversationId: conv.id,
        seq,
        senderId: ownerId,
        kind: "text",
        body: `history message ${seq}: the quick brown fox jumps over the lazy dog`,
        ts: t0 + seq,
        ...unchanged(seq),
      };
      op = op.set(keys.message(conv.id, seq), m)
        .set(keys.idem(conv.id, m.id), { seq, ts: m.ts, senderId: ownerId });
      if (seq === count) last = m;
    }
    const res = await op.commit();
    if (!res.ok) throw new Error("history seed commit failed");
    if (progress && c % 200 === 0) progress(to);
  });
  const head: Head = { seq: count, ts: t0 + count, last };
  await kv.set(keys.head(conv.id), head);
  await kv.set(keys.cursor(conv.id, ownerId), count);
  return conv.id;
}
