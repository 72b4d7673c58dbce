/**
 * Checks a WebSocket opening handshake (RFC 6455 §4.2.1) before `Deno.upgradeWebSocket` sees
 * it. Deno throws a TypeError on a request without `Sec-WebSocket-Key` or whose `Connection`
 * lacks `Upgrade`; uncaught, that was a 500 with a stack in the log for any stranger to cause.
 * Refusing here gives the client a reason and keeps the log for our own bugs.
 * @module
 */

/** Why a handshake is refused: the status, the headers to send with it, and a sentence. */
export interface HandshakeProblem {
  status: 400 | 426;
  headers: Record<string, string>;
  message: string;
}

function tokens(value: string | null): string[] {
  return (value ?? "").toLowerCase().split(",").map((s) => s.trim()).filter(Boolean);
}

/** A key is 16 random bytes in base64: 22 characters and `==`. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Returns what is wrong with a WebSocket handshake, or null when it may be upgraded.
 * No `Upgrade: websocket` (or a version other than 13) is 426 with the header that says what
 * to speak; anything else malformed is 400.
 * @example
 * const problem = handshakeProblem(req.headers);
 * if (problem) return new Response(problem.message, problem);
 */
export function handshakeProblem(headers: Headers): HandshakeProblem | null {
  if (!tokens(headers.get("upgrade")).includes("websocket")) {
    return {
      status: 426,
      headers: { upgrade: "websocket", connection: "Upgrade" },
      message: "This endpoint speaks WebSocket only.",
    };
  }
  if (!tokens(headers.get("connection")).includes("upgrade")) {
    return {
      status: 400,
      headers: {},
      message: "A WebSocket handshake needs `Connection: Upgrade`.",
    };
  }
  const version = headers.get("sec-websocket-version");
  if (version !== null && version.trim() !== "13") {
    return {
      status: 426,
      headers: { upgrade: "websocket", "sec-websocket-version": "13" },
      message: "Only WebSocket version 13 is spoken here.",
    };
  }
  if (!KEY.test((headers.get("sec-websocket-key") ?? "").trim())) {
    return {
      status: 400,
      headers: {},
      message: "A WebSocket handshake needs a Sec-WebSocket-Key of 16 bytes in base64.",
    };
  }
  return null;
}
