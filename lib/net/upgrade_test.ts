import { deepStrictEqual as eq, equal } from "node:assert/strict";
import { handshakeProblem } from "./upgrade.ts";

const good = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

Deno.test("handshakeProblem accepts a browser's handshake, in any case and token order", () => {
  equal(handshakeProblem(new Headers(good)), null);
  equal(
    handshakeProblem(
      new Headers({ ...good, upgrade: "WebSocket", connection: "keep-alive, Upgrade" }),
    ),
    null,
  );
});

Deno.test("handshakeProblem: not WebSocket or another version is 426 saying what to speak", () => {
  const cases: Record<string, string>[] = [
    { ...good, upgrade: "" },
    { ...good, upgrade: "h2c" },
    { ...good, "sec-websocket-version": "8" },
  ];
  for (const h of cases) {
    const p = handshakeProblem(new Headers(h));
    equal(p?.status, 426, JSON.stringify(h));
    equal(p?.headers.upgrade, "websocket");
  }
});

Deno.test("handshakeProblem: a broken handshake is 400", () => {
  const { "sec-websocket-key": _, ...noKey } = good;
  const cases: Record<string, string>[] = [
    noKey,
    { ...good, connection: "keep-alive" },
    { ...good, "sec-websocket-key": "abc" },
    { ...good, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ" },
    { ...good, "sec-websocket-key": "!!!!!!!!!!!!!!!!!!!!!!==" },
  ];
  for (const h of cases) eq(handshakeProblem(new Headers(h))?.status, 400, JSON.stringify(h));
});
