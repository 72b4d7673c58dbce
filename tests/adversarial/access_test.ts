/**
 * Access probe: a table of every conversation route and frame, tried by everyone who must be
 * refused: an outsider, a member without the role, an admin where only the owner may act, a
 * removed member (over HTTP, and over a socket opened before the removal), a logged-out
 * session (token, cookie, socket) and a session whose refresh token was replayed. Each attempt
 * must get the contract's answer and change nothing: title, members, roles, history and read
 * cursors are compared before and after, and the refused never receive the conversation's
 * frames.
 */
// deno-lint-ignore-file no-explicit-any no-console
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import {
  type Account,
  api,
  postForm,
  register,
  type TestServer,
  withServer,
  WsClient,
} from "../helpers/server.ts";
import { report } from "./seed.ts";

type Actor = "outsider" | "member" | "admin" | "removed" | "loggedOut" | "replayed";

interface Attempt {
  what: string;
  method: string;
  path: (conv: string, ids: Record<string, string>) => string;
  body?: (ids: Record<string, string>) => unknown;
  /** Expected status per actor; an actor left out is not tried on this route. */
  expect: Partial<Record<Actor, number>>;
}

/** The probe must end within this, or it fails (it takes about 7 s on a busy VM). */
const BOUND_MS = 120_000;

const NOT_MEMBER = { outsider: 404, removed: 404, loggedOut: 401, replayed: 401 } as const;

const ROUTES: Attempt[] = [
  { what: "detail", method: "GET", path: (c) => `/api/conversations/${c}`, expect: NOT_MEMBER },
  {
    what: "history",
    method: "GET",
    path: (c) => `/api/conversations/${c}/messages`,
    expect: NOT_MEMBER,
  },
  {
    what: "send",
    method: "POST",
    path: (c) => `/api/conversations/${c}/messages`,
    body: () => ({ id: crypto.randomUUID(), body: "refused send" }),
    expect: NOT_MEMBER,
  },
  {
    what: "read",
    method: "POST",
    path: (c) => `/api/conversations/${c}/read`,
    body: () => ({ seq: 2 }),
    expect: NOT_MEMBER,
  },
  {
    what: "rename",
    method: "PATCH",
    path: (c) => `/api/conversations/${c}`,
    body: () => ({ title: "hijacked" }),
    expect: { ...NOT_MEMBER, member: 403 },
  },
  {
    what: "add member",
    method: "POST",
    path: (c) => `/api/conversations/${c}/members`,
    body: (ids) => ({ userId: ids.stranger }),
    expect: { ...NOT_MEMBER, member: 403 },
  },
  {
    what: "change a role",
    method: "PATCH",
    path: (c, ids) => `/api/conversations/${c}/members/${ids.plain}`,
    body: () => ({ role: "admin" }),
    expect: { ...NOT_MEMBER, member: 403, admin: 403 },
  },
  {
    what: "promote oneself",
    method: "PATCH",
    path: (c, ids) => `/api/conversations/${c}/members/${ids.self}`,
    body: () => ({ role: "admin" }),
    expect: { ...NOT_MEMBER, member: 403 },
  },
  {
    what: "remove another member",
    method: "DELETE",
    path: (c, ids) => `/api/conversations/${c}/members/${ids.plain}`,
    expect: { ...NOT_MEMBER, member: 403 },
  },
  {
    what: "remove the owner",
    method: "DELETE",
    path: (c, ids) => `/api/conversations/${c}/members/${ids.owner}`,
    expect: { ...NOT_MEMBER, member: 403, admin: 403 },
  },
  {
    what: "demote the owner",
    method: "PATCH",
    path: (c, ids) => `/api/conversations/${c}/members/${ids.owner}`,
    body: () => ({ role: "member" }),
    expect: { ...NOT_MEMBER, member: 403, admin: 403 },
  },
  {
    what: "chat form send",
    method: "POST",
    path: (c) => `/chat/${c}/messages`,
    body: () => ({ id: crypto.randomUUID(), body: "refused form" }),
    expect: { outsider: 404, removed: 404, loggedOut: 303, replayed: 303 },
  },
  {
    what: "history after a seq",
    method: "GET",
    path: (c) => `/api/conversations/${c}/messages?after=0&limit=100`,
    expect: NOT_MEMBER,
  },
  {
    what: "leave (remove oneself)",
    method: "DELETE",
    path: (c, ids) => `/api/conversations/${c}/members/${ids.self}`,
    expect: { outsider: 404, removed: 404, loggedOut: 401, replayed: 401 },
  },
  {
    what: "chat page",
    method: "GET",
    path: (c) => `/chat/${c}`,
    expect: { outsider: 404, removed: 404, loggedOut: 302, replayed: 302 },
  },
];

const FRAMES: { what: string; frame: (conv: string) => any }[] = [
  {
    what: "send",
    frame: (c) => ({
      type: "send",
      id: crypto.randomUUID(),
      conversationId: c,
      body: "refused frame",
    }),
  },
  { what: "sync", frame: (c) => ({ type: "sync", conversationId: c, afterSeq: 0, reqId: "s" }) },
  { what: "read", frame: (c) => ({ type: "read", conversationId: c, seq: 2, reqId: "r" }) },
];

/** What the refused must not be able to change. */
async function snapshot(srv: TestServer, owner: Account, conv: string) {
  const detail = await api(srv.url, "GET", `/api/conversations/${conv}`, {
    token: owner.accessToken,
  });
  const history = await api(srv.url, "GET", `/api/conversations/${conv}/messages`, {
    token: owner.accessToken,
  });
  return {
    title: detail.body.conversation.title,
    members: detail.body.members.map((m: any) => [m.id, m.role, m.lastReadSeq]).sort(),
    messages: history.body.messages.map((m: any) => [m.seq, m.senderId, m.body]),
  };
}

Deno.test({
  name:
    "access: every route and frame refuses outsiders, the role-less, the removed, the logged-out and the replayed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const watchdog = setTimeout(() => {
      console.error(`access: over ${BOUND_MS} ms`);
      Deno.exit(1);
    }, BOUND_MS);
    try {
      await probe();
    } finally {
      clearTimeout(watchdog);
    }
  },
});

async function probe() {
  await withServer(async (srv) => {
    const [owner, admin, plain, member, outsider, removed, stranger, loggedOut, replayed] =
      await Promise.all(Array.from({ length: 9 }, () => register(srv.url)));
    const made = await api(srv.url, "POST", "/api/conversations", {
      token: owner.accessToken,
      body: {
        kind: "group",
        title: "Inner circle",
        memberIds: [admin, plain, member, removed, loggedOut, replayed].map((a) => a.user.id),
      },
    });
    equal(made.status, 201);
    const conv = made.body.conversation.id as string;
    const role = await api(
      srv.url,
      "PATCH",
      `/api/conversations/${conv}/members/${admin.user.id}`,
      {
        token: owner.accessToken,
        body: { role: "admin" },
      },
    );
    equal(role.status, 204);
    for (const body of ["one", "two"]) {
      await api(srv.url, "POST", `/api/conversations/${conv}/messages`, {
        token: owner.accessToken,
        body: { id: crypto.randomUUID(), body },
      });
    }

    // Sockets opened while still a member, kept through removal and logout.
    const removedWs = await WsClient.connect(srv.wsUrl, removed.accessToken);
    const loggedOutWs = await WsClient.connect(srv.wsUrl, loggedOut.accessToken);
    const outsiderWs = await WsClient.connect(srv.wsUrl, outsider.accessToken);
    const memberWs = await WsClient.connect(srv.wsUrl, member.accessToken);

    const out = await api(
      srv.url,
      "DELETE",
      `/api/conversations/${conv}/members/${removed.user.id}`,
      {
        token: owner.accessToken,
      },
    );
    equal(out.status, 204);
    await removedWs.next((f) => f.type === "removed" || f.type === "conversation", 5000);
    const logout = await api(srv.url, "POST", "/api/auth/logout", {
      token: loggedOut.accessToken,
    });
    equal(logout.status, 204);
    eq((await loggedOutWs.closed).code, 4001);
    // Replay: refresh once (rotation), then present the first refresh token again.
    const rotated = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: replayed.refreshToken },
    });
    equal(rotated.status, 200);
    const replay = await api(srv.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: replayed.refreshToken },
    });
    equal(replay.status, 401);
    const actors: Record<Actor, { account: Account; token: string; cookie?: string }> = {
      outsider: { account: outsider, token: outsider.accessToken },
      member: { account: member, token: member.accessToken },
      admin: { account: admin, token: admin.accessToken },
      removed: { account: removed, token: removed.accessToken },
      loggedOut: { account: loggedOut, token: loggedOut.accessToken, cookie: loggedOut.cookie },
      // The session is revoked: the rotated (newest) access token is refused as well.
      replayed: { account: replayed, token: rotated.body.accessToken },
    };

    const before = await snapshot(srv, owner, conv);
    const ids = (a: Account) => ({
      stranger: stranger.user.id,
      plain: plain.user.id,
      owner: owner.user.id,
      self: a.user.id,
    });
    let attempts = 0;
    const failures: string[] = [];
    // The owner's direct conversation with a plain member, tried by those outside it.
    const direct = await api(srv.url, "POST", "/api/conversations", {
      token: owner.accessToken,
      body: { kind: "direct", userId: plain.user.id },
    });
    const directConv = direct.body.conversation.id as string;
    const directBefore = await snapshot(srv, owner, directConv);
    const targets: [string, Actor[]][] = [
      [conv, ["outsider", "member", "admin", "removed", "loggedOut", "replayed"]],
      [directConv, ["outsider", "member", "admin", "loggedOut", "replayed"]],
    ];
    for (const [target, who] of targets) {
      for (const route of ROUTES) {
        for (let [actor, status] of Object.entries(route.expect) as [Actor, number][]) {
          if (!who.includes(actor)) continue;
          // In the direct chat, member and admin of the group are outsiders.
          if (target === directConv && (actor === "member" || actor === "admin")) {
            status = (NOT_MEMBER as Record<string, number>).outsider;
            if (route.what.startsWith("chat ")) status = 404;
          }
          await tryRoute(target, route, actor, status);
        }
      }
    }
    eq(await snapshot(srv, owner, directConv), directBefore);

    async function tryRoute(conv: string, route: Attempt, actor: Actor, status: number) {
      {
        const a = actors[actor];
        const path = route.path(conv, ids(a.account));
        const body = route.body?.(ids(a.account));
        const viaToken = route.what === "chat page"
          ? await api(srv.url, route.method, path, { cookie: a.cookie ?? a.account.cookie })
          : route.what === "chat form send"
          ? await postForm(srv, path, body as Record<string, string>, {
            cookie: a.cookie ?? a.account.cookie,
          })
          : await api(srv.url, route.method, path, { token: a.token, body });
        attempts++;
        if (viaToken.status !== status) {
          failures.push(`${actor} ${route.what}: ${viaToken.status}, expected ${status}`);
        }
        if (actor === "loggedOut" && !route.what.startsWith("chat ")) {
          // The cookie of the revoked session, from the app's own origin, fares no better.
          const viaCookie = await api(srv.url, route.method, path, {
            cookie: a.cookie,
            body,
            headers: { origin: srv.url },
          });
          attempts++;
          if (viaCookie.status !== 401) {
            failures.push(`loggedOut cookie ${route.what}: ${viaCookie.status}, expected 401`);
          }
        }
      }
    }

    // Frames: the outsider's socket, and the removed member's socket opened before removal.
    for (const [who, ws] of [["outsider", outsiderWs], ["removed", removedWs]] as const) {
      for (const { what, frame } of FRAMES) {
        const f = frame(conv);
        const from = ws.frames.length;
        ws.send(f);
        const reply = await ws.next(
          (r) =>
            r.type === "error" && (r.id === f.id || r.reqId === f.reqId) || r.type === "messages",
          5000,
          from,
        );
        attempts++;
        if (reply.type !== "error" || reply.error.code !== "not_found") {
          failures.push(`${who} frame ${what}: ${JSON.stringify(reply).slice(0, 120)}`);
        }
      }
      ws.send({ type: "typing", conversationId: conv });
      attempts++;
    }
    // Upgrades with dead credentials.
    for (
      const [who, token] of [["loggedOut", loggedOut.accessToken], [
        "replayed",
        rotated.body.accessToken,
      ]]
    ) {
      const res = await api(srv.url, "GET", `/api/ws?token=${encodeURIComponent(token)}`, {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      });
      attempts++;
      if (res.status !== 401) failures.push(`${who} upgrade: ${res.status}`);
    }
    // Lists: nobody outside sees the conversation.
    for (const who of ["outsider", "removed"] as const) {
      const list = await api(srv.url, "GET", "/api/conversations", { token: actors[who].token });
      attempts++;
      if (list.body.conversations.some((c: any) => c.id === conv)) {
        failures.push(`${who} lists the conversation`);
      }
    }

    // Nothing the refused tried changed anything.
    eq(await snapshot(srv, owner, conv), before);

    // A message after all that reaches the member, and none of the refused.
    const last = await api(srv.url, "POST", `/api/conversations/${conv}/messages`, {
      token: owner.accessToken,
      body: { id: crypto.randomUUID(), body: "members only" },
    });
    equal(last.status, 201);
    await memberWs.next((f) => f.type === "message" && f.message.body === "members only");
    await new Promise((r) => setTimeout(r, 300));
    for (const [who, ws] of [["outsider", outsiderWs], ["removed", removedWs]] as const) {
      const leaked = ws.frames.filter((f) =>
        (f.type === "message" && f.message.conversationId === conv &&
          f.message.body === "members only") ||
        (f.type === "typing" && f.conversationId === conv)
      );
      if (leaked.length) failures.push(`${who} received ${JSON.stringify(leaked).slice(0, 120)}`);
    }
    const typingSeen = memberWs.frames.filter((f) => f.type === "typing");
    if (typingSeen.length) failures.push(`a refused typing reached a member`);

    report(
      `access: ${attempts} attempts, ${failures.length} answered otherwise than the contract`,
    );
    eq(failures, []);
    ok(attempts >= 100, `${attempts} attempts`);
    await Promise.all([removedWs, outsiderWs, memberWs].map((ws) => ws.close()));
  });
}
