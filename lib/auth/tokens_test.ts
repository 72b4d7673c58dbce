import { deepStrictEqual, equal, notEqual, ok } from "node:assert/strict";
import { SignJWT } from "jose";
import { resolveSecret, TokenSigner } from "./tokens.ts";

const SECRET = "a-test-secret-that-is-long-enough-for-hs256!";
const claims = { userId: "user-1", sessionId: "session-1" };

function b64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(atob(segment.replace(/-/g, "+").replace(/_/g, "/")));
}

Deno.test("a signed access token verifies back to its claims", async () => {
  const signer = new TokenSigner(SECRET, 60);
  const token = await signer.sign(claims);
  deepStrictEqual(await signer.verify(token), claims);
  // Another signer holding the same secret (another isolate) accepts it too.
  deepStrictEqual(await new TokenSigner(SECRET, 60).verify(token), claims);
});

Deno.test("a token with a tampered payload is refused", async () => {
  const signer = new TokenSigner(SECRET, 60);
  const [header, payload, sig] = (await signer.sign(claims)).split(".");
  const forged = b64url(JSON.stringify({ ...decodeSegment(payload), sub: "someone-else" }));
  equal(await signer.verify([header, forged, sig].join(".")), null);
  equal(await signer.verify([header, payload, sig.slice(0, -2) + "AA"].join(".")), null);
});

Deno.test("a token signed with another secret is refused", async () => {
  const token = await new TokenSigner("another-secret-of-reasonable-length-000", 60).sign(claims);
  equal(await new TokenSigner(SECRET, 60).verify(token), null);
});

Deno.test("an alg:none token is refused", async () => {
  const signer = new TokenSigner(SECRET, 60);
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "none", typ: "JWT" }));
  const payload = b64url(
    JSON.stringify({ sub: "user-1", sid: "session-1", iss: "parley", iat: now, exp: now + 60 }),
  );
  equal(await signer.verify(`${header}.${payload}.`), null);
  // Same with the genuine signature kept but the header switched to none.
  const [, realPayload, sig] = (await signer.sign(claims)).split(".");
  equal(await signer.verify(`${header}.${realPayload}.${sig}`), null);
});

Deno.test("a token signed with the right key but another algorithm or issuer is refused", async () => {
  const signer = new TokenSigner(SECRET, 60);
  const key = new TextEncoder().encode(SECRET);
  const hs512 = await new SignJWT({ sid: "session-1" }).setProtectedHeader({ alg: "HS512" })
    .setSubject("user-1").setIssuer("parley").setExpirationTime("1m").sign(key);
  equal(await signer.verify(hs512), null);
  const otherIssuer = await new SignJWT({ sid: "session-1" }).setProtectedHeader({ alg: "HS256" })
    .setSubject("user-1").setIssuer("someone-else").setExpirationTime("1m").sign(key);
  equal(await signer.verify(otherIssuer), null);
  const noSession = await new SignJWT({}).setProtectedHeader({ alg: "HS256" })
    .setSubject("user-1").setIssuer("parley").setExpirationTime("1m").sign(key);
  equal(await signer.verify(noSession), null);
});

Deno.test("an expired token is refused", async () => {
  const signer = new TokenSigner(SECRET, 60);
  const now = Math.floor(Date.now() / 1000);
  const expired = await new SignJWT({ sid: "session-1" }).setProtectedHeader({ alg: "HS256" })
    .setSubject("user-1").setIssuer("parley").setIssuedAt(now - 120).setExpirationTime(now - 60)
    .sign(new TextEncoder().encode(SECRET));
  equal(await signer.verify(expired), null);

  const shortLived = new TokenSigner(SECRET, 1);
  const token = await shortLived.sign(claims);
  deepStrictEqual(await shortLived.verify(token), claims);
  await new Promise((r) => setTimeout(r, 1100));
  equal(await shortLived.verify(token), null);
});

Deno.test("garbage tokens are refused without throwing", async () => {
  const signer = new TokenSigner(SECRET, 60);
  for (const token of ["", "abc", "a.b.c", "..", "x".repeat(5000)]) {
    equal(await signer.verify(token), null, token.slice(0, 20));
  }
});

Deno.test("resolveSecret without configuration generates one strong secret shared by every caller", async () => {
  const kv = await Deno.openKv(":memory:");
  const elsewhere = await Deno.openKv(":memory:");
  try {
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => resolveSecret(kv, null)));
    const secret = concurrent[0];
    for (const s of concurrent) equal(s, secret);
    equal(await resolveSecret(kv, null), secret, "a later call (restart) reuses it");
    equal(await resolveSecret(kv, ""), secret, "an empty configured secret does not count");
    // At least 32 bytes of entropy: decodes to ≥ 32 random bytes.
    const bytes = Uint8Array.from(
      atob(secret.replace(/-/g, "+").replace(/_/g, "/")),
      (c) => c.charCodeAt(0),
    );
    ok(bytes.length >= 32, `only ${bytes.length} bytes`);
    ok(new Set(bytes).size > 16, "the bytes look random");
    notEqual(await resolveSecret(elsewhere, null), secret, "another store gets its own secret");

    // A token signed with it on one isolate verifies on another that resolved it separately.
    const token = await new TokenSigner(secret, 60).sign(claims);
    deepStrictEqual(await new TokenSigner(await resolveSecret(kv, null), 60).verify(token), claims);
  } finally {
    kv.close();
    elsewhere.close();
  }
});

Deno.test("resolveSecret prefers the configured secret over a stored one", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const stored = await resolveSecret(kv, null);
    equal(await resolveSecret(kv, "configured-secret"), "configured-secret");
    notEqual(stored, "configured-secret");
  } finally {
    kv.close();
  }
});
