/**
 * Changes made at once in one conversation: taken in turn by the isolate, under consecutive
 * seqs, each person's in the order made, with one commit apiece (no change fails its head check
 * against another and goes again: under load those retries starved the message commits).
 */
import { deepStrictEqual as eq } from "node:assert/strict";
import { withKv } from "../store/testing.ts";
import { createUser } from "../store/users.ts";
import { ChatService } from "./service.ts";
import { PortRecorder } from "./testing.ts";

/** Counts the outcomes of the real KV's atomic commits (instrumentation, not a fake). */
function countCommits(kv: Deno.Kv) {
  const counts = { ok: 0, failed: 0 };
  const atomic = kv.atomic.bind(kv);
  kv.atomic = () => {
    const op = atomic();
    const commit = op.commit.bind(op);
    op.commit = async () => {
      const res = await commit();
      if (res.ok) counts.ok++;
      else counts.failed++;
      return res;
    };
    return op;
  };
  return counts;
}

Deno.test("changes made at once in one conversation commit in turn, each person's in order", async () => {
  await withKv(async (kv) => {
    const names = ["ann", "bea", "cid", "dan"];
    for (const name of names) {
      await createUser(kv, { id: name, username: name, displayName: name, passwordHash: "x" });
    }
    const chat = new ChatService(kv, new PortRecorder());
    const conv = await chat.createGroup("ann", "Team", ["bea", "cid", "dan"]);
    const convId = conv.id;
    const first = await chat.send("ann", convId, { id: "m1", body: "react to me" }, null);
    const second = await chat.send("bea", convId, { id: "m2", body: "and edit me" }, null);
    const emoji = ["👍", "🎉", "😂", "🙏", "😮"];
    const commits = countCommits(kv);
    // 20 reactions (each member, each of 5 emoji) and 4 edits by bea, all at once.
    const made = [
      ...names.flatMap((who) =>
        emoji.map((e) => () =>
          chat.react(who, convId, { id: `r-${who}-${e}`, seq: first.seq, emoji: e, on: true }, null)
        )
      ),
      ...[1, 2, 3, 4].map((n) => () =>
        chat.edit("bea", convId, { id: `e${n}`, seq: second.seq, body: `edit ${n}` }, null)
      ),
    ];
    const acks = await Promise.all(made.map((change) => change()));
    const base = Math.max(first.seq, second.seq);
    eq(
      acks.map((a) => a.seq).sort((a, b) => a - b),
      acks.map((_, i) => base + 1 + i),
      "one seq each, no gap",
    );
    for (const who of names) {
      const mine = acks.filter((a) =>
        a.id.startsWith(`r-${who}-`) || who === "bea" && a.id[0] === "e"
      );
      const seqs = mine.map((a) => a.seq);
      eq(seqs, [...seqs].sort((a, b) => a - b), `${who}'s changes stored in the order made`);
    }
    eq(commits.failed, 0, "no change failed its check against another and went again");
    eq(acks.at(-1)!.message.body, "edit 4", "the last edit made is the text shown");
    const reacted = acks[names.length * emoji.length - 1].message.reactions;
    eq(reacted.map((r) => [r.emoji, r.count]), emoji.map((e) => [e, 4]));
  });
});

Deno.test("messages and changes sent at once in one conversation never fail each other's commit", async () => {
  await withKv(async (kv) => {
    for (const name of ["ann", "bea", "cid"]) {
      await createUser(kv, { id: name, username: name, displayName: name, passwordHash: "x" });
    }
    const chat = new ChatService(kv, new PortRecorder());
    const conv = await chat.createGroup("ann", "Team", ["bea", "cid"]);
    const target = await chat.send("ann", conv.id, { id: "t", body: "react to me" }, null);
    const EMOJI = ["👍", "🎉", "😂", "🙏", "😮", "❤️", "🔥", "👀"];
    const commits = countCommits(kv);
    // Messages from two people and reactions from a third, interleaved, all at once.
    const made = Array.from(
      { length: 24 },
      (_, i) => () =>
        i % 3 === 2
          ? chat.react(
            "cid",
            conv.id,
            { id: `r${i}`, seq: target.seq, emoji: EMOJI[i % EMOJI.length], on: true },
            null,
          )
          : chat.send(i % 3 ? "bea" : "ann", conv.id, { id: `m${i}`, body: `message ${i}` }, null),
    );
    const acks = await Promise.all(made.map((f) => f()));
    eq(
      acks.map((a) => a.seq).sort((a, b) => a - b),
      acks.map((_, i) => target.seq + 1 + i),
      "one seq each, no gap",
    );
    eq(commits.failed, 0, "no message commit failed against a change, nor a change against one");
  });
});
