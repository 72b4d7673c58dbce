/**
 * `deno task admin`: each command against a running server's real KV, checked by what a user
 * of that server notices (sign-in, sockets, group membership).
 */
import { deepStrictEqual as eq, equal, match, ok } from "node:assert/strict";
import { runAdmin } from "../../lib/admin.ts";
import { api, register, startServer, type TestServer, WsClient } from "../helpers/server.ts";

async function admin(srv: TestServer, ...argv: string[]) {
  const lines: string[] = [];
  const code = await runAdmin(srv.kv, argv, { kvPath: ":memory:", out: (l) => lines.push(l) });
  return { code, text: lines.join("\n") };
}

const login = (srv: TestServer, username: string, password: string) =>
  api(srv.url, "POST", "/api/auth/login", { body: { username, password } });

Deno.test("admin users lists and searches accounts, with their live sessions", async () => {
  const srv = await startServer();
  try {
    await register(srv.url, "adm_zed", "password-zed");
    await register(srv.url, "adm_amy", "password-amy");
    await login(srv, "adm_amy", "password-amy");
    const all = await admin(srv, "users", "--json");
    equal(all.code, 0);
    const rows = JSON.parse(all.text);
    eq(rows.map((u: { username: string }) => u.username), ["adm_amy", "adm_zed"]);
    eq(rows.map((u: { sessions: number }) => u.sessions), [2, 1]);
    const found = await admin(srv, "users", "--search", "ZED");
    match(found.text, /adm_zed/);
    ok(!found.text.includes("adm_amy"));
    match(found.text, /^1 user$/m);
  } finally {
    await srv.close();
  }
});

Deno.test("admin create-user makes an account that can sign in; rules as for sign-up", async () => {
  const srv = await startServer();
  try {
    const made = await admin(srv, "create-user", "adm_new", "--display-name", "New One");
    equal(made.code, 0);
    const password = /password: (\S+)/.exec(made.text)![1];
    const res = await login(srv, "adm_new", password);
    equal(res.status, 200);
    equal(res.body.user.displayName, "New One");
    const again = await admin(srv, "create-user", "adm_new", "--password", "whatever-pw");
    equal(again.code, 1);
    match(again.text, /already taken/);
    const bad = await admin(srv, "create-user", "x", "--password", "whatever-pw");
    equal(bad.code, 1);
    match(bad.text, /username must be 3 to 32 characters/);
  } finally {
    await srv.close();
  }
});

Deno.test("admin reset-password prints a new password, and the old one and every session stop working", async () => {
  const srv = await startServer();
  try {
    const acc = await register(srv.url, "adm_rp", "old-password-1");
    const ws = await WsClient.connect(srv.wsUrl, acc.accessToken);
    const res = await admin(srv, "reset-password", "adm_rp");
    equal(res.code, 0);
    match(res.text, /1 session\(s\) revoked/);
    const password = /password: (\S+)/.exec(res.text)![1];
    equal((await ws.closed).code, 4001);
    equal((await api(srv.url, "GET", "/api/me", { token: acc.accessToken })).status, 401);
    equal((await login(srv, "adm_rp", "old-password-1")).status, 401);
    equal((await login(srv, "adm_rp", password)).status, 200);
    const unknown = await admin(srv, "reset-password", "nobody_here");
    equal(unknown.code, 1);
    match(unknown.text, /There is no user "nobody_here"/);
  } finally {
    await srv.close();
  }
});

Deno.test("admin revoke-sessions signs a user out everywhere, by username or id", async () => {
  const srv = await startServer();
  try {
    const acc = await register(srv.url, "adm_rv", "password-rv");
    const other = await login(srv, "adm_rv", "password-rv");
    const ws = await WsClient.connect(srv.wsUrl, other.body.accessToken);
    const res = await admin(srv, "revoke-sessions", acc.user.id);
    equal(res.code, 0);
    match(res.text, /2 session\(s\) of adm_rv revoked/);
    equal((await ws.closed).code, 4001);
    equal((await api(srv.url, "GET", "/api/me", { token: acc.accessToken })).status, 401);
    // The password still works: only sessions ended.
    equal((await login(srv, "adm_rv", "password-rv")).status, 200);
  } finally {
    await srv.close();
  }
});

Deno.test("admin delete-user asks for --yes, then removes the account from sign-in and groups", async () => {
  const srv = await startServer();
  try {
    const owner = await register(srv.url, "adm_own", "password-own");
    const gone = await register(srv.url, "adm_gone", "password-gone");
    const group = await api(srv.url, "POST", "/api/conversations", {
      token: owner.accessToken,
      body: { kind: "group", title: "G", memberIds: [gone.user.id] },
    });
    const convId = group.body.conversation.id;
    const ask = await admin(srv, "delete-user", "adm_gone");
    equal(ask.code, 1);
    match(ask.text, /--yes/);
    equal((await login(srv, "adm_gone", "password-gone")).status, 200);

    const res = await admin(srv, "delete-user", "adm_gone", "--yes");
    equal(res.code, 0, res.text);
    match(res.text, /removed from 1 conversation/);
    equal((await login(srv, "adm_gone", "password-gone")).status, 401);
    equal((await api(srv.url, "GET", "/api/me", { token: gone.accessToken })).status, 401);
    const detail = await api(srv.url, "GET", `/api/conversations/${convId}`, {
      token: owner.accessToken,
    });
    eq(detail.body.members.map((m: { userId?: string; id?: string }) => m.userId ?? m.id), [
      owner.user.id,
    ]);
    const search = await api(srv.url, "GET", "/api/users?q=adm_gone", { token: owner.accessToken });
    eq(search.body.users, []);
    // The name is free again.
    await register(srv.url, "adm_gone", "password-new1");
  } finally {
    await srv.close();
  }
});

Deno.test("admin stats counts users, conversations, messages and sessions; usage errors exit 2", async () => {
  const srv = await startServer();
  try {
    const a = await register(srv.url);
    const b = await register(srv.url);
    const direct = await api(srv.url, "POST", "/api/conversations", {
      token: a.accessToken,
      body: { kind: "direct", userId: b.user.id },
    });
    await api(srv.url, "POST", "/api/conversations", {
      token: a.accessToken,
      body: { kind: "group", title: "T", memberIds: [b.user.id] },
    });
    for (let i = 0; i < 3; i++) {
      await api(srv.url, "POST", `/api/conversations/${direct.body.conversation.id}/messages`, {
        token: a.accessToken,
        body: { id: `s${i}`, body: "hi" },
      });
    }
    const res = await admin(srv, "stats", "--json");
    equal(res.code, 0);
    const stats = JSON.parse(res.text);
    equal(stats.users, 2);
    eq(stats.conversations, { direct: 1, group: 1 });
    ok(stats.messages >= 3);
    equal(stats.sessions, 2);
    equal(stats.kvBytes, null);
    const text = await admin(srv, "stats");
    match(text.text, /users\s+2/);
    equal((await admin(srv, "frobnicate")).code, 2);
    equal((await admin(srv, "reset-password")).code, 2);
    equal((await admin(srv, "users", "--limit", "0")).code, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("deno task admin runs against the KV file the server uses", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-admin-" });
  try {
    const path = `${dir}/a.kv`;
    const srv = await startServer({ KV_PATH: path });
    await register(srv.url, "adm_file", "password-file");
    await srv.close();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/admin.ts", "stats"],
      cwd: new URL("../../", import.meta.url).pathname,
      env: { KV_PATH: path, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    match(text, /users\s+1/);
    match(text, /KV size\s+\d/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
