// deno-lint-ignore-file no-explicit-any
/**
 * Backup and restore end to end: a store populated through the real API, exported by
 * `deno task export`, imported by `deno task import` into a fresh KV file, and served again.
 */
import { deepStrictEqual as eq, equal, match, ok } from "node:assert/strict";
import { keys } from "../../lib/store/keys.ts";
import { openKv } from "../../lib/store/kv.ts";
import { SCHEMA_VERSION } from "../../lib/store/schema.ts";
import { api, register, startServer, WsClient } from "../helpers/server.ts";

const root = new URL("../../", import.meta.url).pathname;

async function task(args: string[], env: Record<string, string>, stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: root,
    env: { ...env, NO_COLOR: "1" },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Everything a signed-in user can see through the API. */
async function viewOf(base: string, token: string) {
  const me = await api(base, "GET", "/api/me", { token });
  const list = await api(base, "GET", "/api/conversations", { token });
  const conversations: any[] = [];
  for (const c of list.body.conversations) {
    const detail = await api(base, "GET", `/api/conversations/${c.id}`, { token });
    const history = await api(base, "GET", `/api/conversations/${c.id}/messages?limit=200`, {
      token,
    });
    conversations.push({ detail: detail.body, history: history.body });
  }
  const users = await api(base, "GET", "/api/users?q=bk", { token });
  return { me: me.body, list: list.body, conversations, users: users.body };
}

Deno.test("export, import into a fresh KV and serve: every API answer and login match", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-backup-" });
  const srcPath = `${dir}/src.kv`;
  const dstPath = `${dir}/dst.kv`;
  const file = `${dir}/backup.jsonl`;
  try {
    const src = await startServer({ KV_PATH: srcPath });
    let accounts;
    let before;
    try {
      accounts = await Promise.all(
        ["bk_ann", "bk_bob", "bk_cy"].map((n) => register(src.url, n, `secret-${n}-pw`)),
      );
      const [ann, bob, cy] = accounts;
      const direct = await api(src.url, "POST", "/api/conversations", {
        token: ann.accessToken,
        body: { kind: "direct", userId: bob.user.id },
      });
      const group = await api(src.url, "POST", "/api/conversations", {
        token: ann.accessToken,
        body: { kind: "group", title: "Backups", memberIds: [bob.user.id, cy.user.id] },
      });
      const ws = await WsClient.connect(src.wsUrl, bob.accessToken);
      for (let i = 0; i < 5; i++) {
        await ws.sendAcked(direct.body.conversation.id, `direct ${i}`);
        await ws.sendAcked(group.body.conversation.id, `group ${i} ✓ \u{1F600}`);
      }
      await ws.close();
      await api(src.url, "POST", `/api/conversations/${group.body.conversation.id}/read`, {
        token: cy.accessToken,
        body: { seq: 3 },
      });
      await api(src.url, "POST", `/api/conversations/${direct.body.conversation.id}/read`, {
        token: ann.accessToken,
        body: { seq: 5 },
      });
      before = await Promise.all(accounts.map((a) => viewOf(src.url, a.accessToken)));
      ok(before[2].conversations[0].history.messages.length >= 5);
    } finally {
      await src.close();
    }

    const exp = await task(["scripts/export.ts", file], { KV_PATH: srcPath });
    equal(exp.code, 0, exp.stderr);
    const lines = (await Deno.readTextFile(file)).trim().split("\n");
    const header = JSON.parse(lines[0]);
    equal(header.format, "parley-kv-export");
    equal(header.schemaVersion, SCHEMA_VERSION);
    equal(header.counts.users, 3);
    equal(header.counts.messages >= 10, true);
    equal(header.entries, lines.length - 1);
    ok(!Number.isNaN(Date.parse(header.exportedAt)));
    equal((await Deno.stat(file)).mode! & 0o077, 0, "the export is readable by its owner only");

    const imp = await task(["scripts/import.ts", file], { KV_PATH: dstPath });
    equal(imp.code, 0, imp.stderr);
    match(imp.stderr, new RegExp(`imported ${header.entries} entries`));

    // A second import into the now non-empty store is refused, and --force is named.
    const again = await task(["scripts/import.ts", file], { KV_PATH: dstPath });
    equal(again.code, 1);
    match(again.stderr, /already holds data.*--force/);

    const dst = await startServer({ KV_PATH: dstPath });
    try {
      // The same access tokens still work: sessions and the signing secret were restored.
      const after = await Promise.all(accounts.map((a) => viewOf(dst.url, a.accessToken)));
      eq(after, before);
      for (const a of accounts) {
        const login = await api(dst.url, "POST", "/api/auth/login", {
          body: { username: a.user.username, password: `secret-${a.user.username}-pw` },
        });
        equal(login.status, 200);
        eq(login.body.user, a.user);
      }
      // New messages continue the sequence.
      const [, bob] = accounts;
      const groupId = before[1].conversations.find((c: any) =>
        c.detail.conversation.kind === "group"
      )
        .detail.conversation.id;
      const ws = await WsClient.connect(dst.wsUrl, bob.accessToken);
      const ack = await ws.sendAcked(groupId, "after restore");
      equal(
        ack.seq,
        before[1].conversations.find((c: any) => c.detail.conversation.id === groupId)
          .history.messages.at(-1).seq + 1,
      );
      await ws.close();
    } finally {
      await dst.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import recomputes heads an export taken mid-write left behind, and drops idem past them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-backup-" });
  try {
    const srv = await startServer({ KV_PATH: `${dir}/a.kv` });
    let convId: string;
    let bob;
    try {
      const [ann, b] = await Promise.all([register(srv.url), register(srv.url)]);
      bob = b;
      const direct = await api(srv.url, "POST", "/api/conversations", {
        token: ann.accessToken,
        body: { kind: "direct", userId: bob.user.id },
      });
      convId = direct.body.conversation.id;
      for (let i = 0; i < 3; i++) {
        await api(srv.url, "POST", `/api/conversations/${convId}/messages`, {
          token: ann.accessToken,
          body: { id: `m${i}`, body: `hello ${i}` },
        });
      }
    } finally {
      await srv.close();
    }
    const exp = await task(["scripts/export.ts"], { KV_PATH: `${dir}/a.kv` });
    equal(exp.code, 0, exp.stderr);
    // What a concurrent send does to a running export: the head was listed before the
    // message it points to was committed, and the idem entry of a later message got in.
    const rows = exp.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const head = rows.find((r) => r.key?.[0] === "head");
    head.value.seq = 1;
    head.value.last = rows.find((r) => r.key?.[0] === "messages" && r.key[2] === 1).value;
    const idem = rows.find((r) => r.key?.[0] === "idem");
    rows.push({ key: ["idem", convId, "lost"], value: { ...idem.value, seq: 4 } });
    const imp = await task(
      ["scripts/import.ts", "-"],
      { KV_PATH: `${dir}/b.kv` },
      rows.map((r) => JSON.stringify(r)).join("\n"),
    );
    equal(imp.code, 0, imp.stderr);
    match(imp.stderr, /1 conversation heads recomputed/);
    const kv = await openKv(`${dir}/b.kv`);
    try {
      equal((await kv.get<any>(keys.head(convId))).value.seq, 3);
      equal((await kv.get<any>(keys.head(convId))).value.last.body, "hello 2");
      equal((await kv.get(keys.idem(convId, "lost"))).value, null);
      ok((await kv.get(keys.idem(convId, "m2"))).value);
    } finally {
      kv.close();
    }
    const b = await startServer({ KV_PATH: `${dir}/b.kv` });
    try {
      const ws = await WsClient.connect(b.wsUrl, bob!.accessToken);
      equal(
        (await ws.sendAcked(convId, "next", "lost" as ReturnType<typeof crypto.randomUUID>)).seq,
        4,
      );
      await ws.close();
    } finally {
      await b.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import refuses a file that is not an export and one from a newer schema", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-backup-" });
  try {
    const bad = await task(["scripts/import.ts", "-"], { KV_PATH: `${dir}/c.kv` }, "{}\n");
    equal(bad.code, 1);
    match(bad.stderr, /not start with a Parley export header/);
    const newer = JSON.stringify({
      format: "parley-kv-export",
      formatVersion: 1,
      schemaVersion: 99,
      exportedAt: new Date().toISOString(),
      counts: {},
      entries: 0,
    });
    const res = await task(["scripts/import.ts", "-"], { KV_PATH: `${dir}/c.kv` }, newer + "\n");
    equal(res.code, 1);
    match(res.stderr, /schema version 99, newer than this release/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an export taken while messages are being sent imports into a store that works", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-backup-" });
  try {
    const srv = await startServer({ KV_PATH: `${dir}/live.kv` });
    let convId: string;
    let token: string;
    try {
      const [ann, bob, cy] = await Promise.all([
        register(srv.url),
        register(srv.url),
        register(srv.url),
      ]);
      token = ann.accessToken;
      const group = await api(srv.url, "POST", "/api/conversations", {
        token,
        body: { kind: "group", title: "Busy", memberIds: [bob.user.id, cy.user.id] },
      });
      convId = group.body.conversation.id;
      let sending = true;
      const writers = [ann, bob, cy].map(async (a) => {
        const ws = await WsClient.connect(srv.wsUrl, a.accessToken);
        while (sending) await ws.sendAcked(convId, "busy");
        await ws.close();
      });
      await new Promise((r) => setTimeout(r, 300));
      const exp = await task(["scripts/export.ts", `${dir}/live.jsonl`], {
        KV_PATH: `${dir}/live.kv`,
      });
      sending = false;
      await Promise.all(writers);
      equal(exp.code, 0, exp.stderr);
    } finally {
      await srv.close();
    }
    const imp = await task(["scripts/import.ts", `${dir}/live.jsonl`], {
      KV_PATH: `${dir}/restored.kv`,
    });
    equal(imp.code, 0, imp.stderr);
    const dst = await startServer({ KV_PATH: `${dir}/restored.kv` });
    try {
      const seqs: number[] = [];
      for (let after = 0;;) {
        const page = await api(
          dst.url,
          "GET",
          `/api/conversations/${convId}/messages?after=${after}&limit=100`,
          { token },
        );
        seqs.push(...page.body.messages.map((m: any) => m.seq));
        if (!page.body.hasMore) break;
        after = seqs.at(-1)!;
      }
      ok(seqs.length > 3, `messages were exported (${seqs.length})`);
      eq(seqs, seqs.map((_, i) => i + 1), "a gapless prefix of the stream");
      const ws = await WsClient.connect(dst.wsUrl, token);
      equal((await ws.sendAcked(convId, "after")).seq, seqs.length + 1);
      await ws.close();
    } finally {
      await dst.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
