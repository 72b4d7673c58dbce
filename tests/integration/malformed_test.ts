/**
 * Requests no honest client sends, over raw TCP where fetch would tidy them up: each gets a 4xx
 * and leaves no log line above debug (an error line means our bug, so anyone able to write one
 * could flood the log and hide real failures).
 */
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { aboveDebug, captureLogs } from "../helpers/logs.ts";
import { rawRequest } from "../helpers/raw.ts";
import { register, withServer } from "../helpers/server.ts";

Deno.test("malformed WebSocket upgrades get 400 or 426, never 500, and log nothing above debug", async () => {
  await withServer(async (srv) => {
    const port = Number(new URL(srv.url).port);
    const { accessToken } = await register(srv.url);
    const auth = `Authorization: Bearer ${accessToken}`;
    const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
    const cases: [string, string][] = [
      ["no key", `Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13`],
      ["no Upgrade in Connection", `Upgrade: websocket\nConnection: keep-alive\n${key}`],
      ["no Connection", `Upgrade: websocket\n${key}\nSec-WebSocket-Version: 13`],
      [
        "a key that is not 16 bytes",
        `Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: abc`,
      ],
      [
        "wrong version",
        `Upgrade: websocket\nConnection: Upgrade\n${key}\nSec-WebSocket-Version: 7`,
      ],
      ["Upgrade: h2c", `Upgrade: h2c\nConnection: Upgrade\n${key}\nSec-WebSocket-Version: 13`],
      ["no upgrade at all", `Accept: */*`],
      [
        "empty key",
        `Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: \nSec-WebSocket-Version: 13`,
      ],
    ];
    const lines = await captureLogs(async () => {
      for (const [what, headers] of cases) {
        const res = await rawRequest(
          port,
          `GET /api/ws HTTP/1.1\nHost: 127.0.0.1\n${auth}\n${headers}\n`,
        );
        ok(res.status === 400 || res.status === 426, `${what}: ${res.status}`);
        if (res.status === 426) ok(/\r\nupgrade: websocket\r\n/i.test(res.text), what);
      }
    });
    eq(aboveDebug(lines), []);
    // An honest upgrade still works.
    const ws = new WebSocket(`${srv.wsUrl}?token=${accessToken}`);
    const first = await new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(e.data)));
    equal(JSON.parse(first).type, "ready");
    ws.close();
    await new Promise((r) => (ws.onclose = r));
  });
});

Deno.test("a malformed chunked body on login is a 400, never a 500", async () => {
  await withServer(async (srv) => {
    const port = Number(new URL(srv.url).port);
    const head = (extra = "") =>
      `POST /api/auth/login HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n` +
      `Transfer-Encoding: chunked\nConnection: close\n${extra}`;
    const bodies = [
      "zz\r\n{}\r\n0\r\n\r\n", // not a hex size
      '5\r\n{"use\r\n', // cut short, then the peer stops
      "ffffffffffffffffff\r\nxx\r\n0\r\n\r\n", // a size past any integer
      "3\r\n{}}}}}}}}\r\n0\r\n\r\n", // a chunk longer than its size
      "2\r\n{}\r\n0\r\nX-Trailer: \0\r\n\r\n", // a NUL in a trailer
      "-1\r\n{}\r\n0\r\n\r\n",
    ];
    const lines = await captureLogs(async () => {
      for (const body of bodies) {
        const res = await rawRequest(port, head(), body);
        // 0: the connection was closed by the HTTP layer before any answer, which is a refusal
        // too; what must never come is a 5xx.
        ok(
          res.status === 0 || (res.status >= 400 && res.status < 500),
          `${JSON.stringify(body)}: ${res.status}`,
        );
      }
    });
    eq(aboveDebug(lines), []);
  });
});

Deno.test("hostile static paths get a 4xx and no error line", async () => {
  await withServer(async (srv) => {
    const port = Number(new URL(srv.url).port);
    const paths = [
      "/static/%00",
      "/static/a%00b.css",
      "/static/%2e%2e/%2e%2e/etc/passwd",
      "/static/..%2f..%2fdeno.json",
      "/static/%ff",
      "/static/%E0%A4%A",
      "/static/" + "a".repeat(5000),
      "/static/%5c..%5c..%5cdeno.json",
      "/static/\\..\\deno.json",
      "/static/" + "b".repeat(300) + ".css",
      "/static/app.css/inner.js",
      "/static/nothing-here.js",
    ];
    const lines = await captureLogs(async () => {
      for (const path of paths) {
        const res = await rawRequest(
          port,
          `GET ${path} HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n`,
        );
        ok(res.status >= 400 && res.status < 500, `${path.slice(0, 40)}: ${res.status}`);
        ok(!res.text.includes('"tasks"'), `${path.slice(0, 40)} served a file outside static`);
      }
    });
    eq(aboveDebug(lines).map((l) => l.raw.slice(0, 200)), []);
    // The built files are still served, cached briefly.
    const css = await fetch(`${srv.url}/static/app.css`);
    await css.body?.cancel();
    eq([css.status, css.headers.get("cache-control")], [200, "public, max-age=300"]);
  });
});
