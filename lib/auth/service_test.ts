import { equal, notEqual, ok, rejects } from "node:assert/strict";
import { AppError } from "../errors.ts";
import { withKv } from "../store/testing.ts";
import { AuthService } from "./service.ts";
import { THROTTLE } from "./throttle.ts";
import { TokenSigner } from "./tokens.ts";

const code = (c: string, field?: string) => (e: unknown) =>
  e instanceof AppError && e.code === c && e.field === field;

const SECRET = "a-test-secret-that-is-long-enough-for-hs256";

/** An auth service over a fresh KV: 15-minute tokens, day-long sessions, `perHour` sign-ups. */
async function withAuth(fn: (auth: AuthService) => Promise<void>, perHour = 0) {
  await withKv(async (kv) => {
    await fn(new AuthService(kv, new TokenSigner(SECRET, 900), 86_400, perHour));
  });
}

const ada = { username: "Ada", password: "correct horse", displayName: "Ada L." };

Deno.test("register signs the new user in: the access token and the cookie name them", async () => {
  await withAuth(async (auth) => {
    const grant = await auth.register(ada, "10.0.0.1");
    equal(grant.user.username, "ada", "usernames are stored in lower case");
    equal(grant.user.displayName, "Ada L.");
    equal(grant.expiresIn, 900);
    equal((await auth.fromAccessToken(grant.accessToken))?.user.id, grant.user.id);
    const byCookie = await auth.fromCookie(grant.secrets.cookieToken);
    equal(byCookie?.sessionId, grant.sessionId);
    ok(!("passwordHash" in grant.user), "the hash never leaves the store");
  });
});

Deno.test("register of a taken username, in any case, is username_taken on the username field", async () => {
  await withAuth(async (auth) => {
    await auth.register(ada, "10.0.0.1");
    await rejects(
      auth.register({ username: "ADA", password: "another one" }, "10.0.0.2"),
      code("username_taken", "username"),
    );
  });
});

Deno.test("register past the per-address hourly limit is rate_limited with a wait; 0 means no limit", async () => {
  await withAuth(async (auth) => {
    await auth.register({ username: "one", password: "password1" }, "10.0.0.1");
    await auth.register({ username: "two", password: "password1" }, "10.0.0.1");
    await rejects(
      auth.register({ username: "three", password: "password1" }, "10.0.0.1"),
      (e) => code("rate_limited")(e) && ((e as AppError).retryAfterMs ?? 0) > 0,
    );
    await auth.register({ username: "three", password: "password1" }, "10.0.0.2");
  }, 2);
  await withAuth(async (auth) => {
    for (let i = 0; i < 4; i++) {
      await auth.register({ username: `user${i}`, password: "password1" }, "10.0.0.1");
    }
  }, 0);
});

Deno.test("login accepts any case of the username and starts a new session", async () => {
  await withAuth(async (auth) => {
    const reg = await auth.register(ada, "10.0.0.1");
    const grant = await auth.login({ username: "ADA", password: ada.password }, "10.0.0.1");
    equal(grant.user.id, reg.user.id);
    notEqual(grant.sessionId, reg.sessionId);
  });
});

Deno.test("login with a wrong password or unknown user gets the same unauthorized answer", async () => {
  await withAuth(async (auth) => {
    await auth.register(ada, "10.0.0.1");
    const wrong = await auth.login({ username: "ada", password: "wrong horse" }, "10.0.0.1")
      .catch((e) => e);
    const unknown = await auth.login({ username: "bob", password: "wrong horse" }, "10.0.0.1")
      .catch((e) => e);
    ok(code("unauthorized")(wrong));
    ok(code("unauthorized")(unknown));
    equal(wrong.message, unknown.message);
  });
});

Deno.test("after five failures a username is throttled, even for the right password", async () => {
  await withAuth(async (auth) => {
    await auth.register(ada, "10.0.0.1");
    for (let i = 0; i < THROTTLE.perUser; i++) {
      await rejects(
        auth.login({ username: "ada", password: `guess ${i}` }, `10.0.1.${i}`),
        code("unauthorized"),
      );
    }
    await rejects(
      auth.login({ username: "ada", password: ada.password }, "10.0.2.1"),
      (e) => code("rate_limited")(e) && ((e as AppError).retryAfterMs ?? 0) > 0,
    );
  });
});

Deno.test("a successful login clears the username's earlier failures", async () => {
  await withAuth(async (auth) => {
    await auth.register(ada, "10.0.0.1");
    for (let i = 0; i < THROTTLE.perUser - 1; i++) {
      await rejects(auth.login({ username: "ada", password: "nope nope" }, "10.0.0.1"));
    }
    await auth.login({ username: "ada", password: ada.password }, "10.0.0.1");
    for (let i = 0; i < THROTTLE.perUser - 1; i++) {
      await rejects(
        auth.login({ username: "ada", password: "nope nope" }, "10.0.0.1"),
        code("unauthorized"),
        "counted from zero again",
      );
    }
  });
});

Deno.test("refresh rotates the tokens: the new ones work, a reused refresh token ends the session", async () => {
  await withAuth(async (auth) => {
    const first = await auth.register(ada, "10.0.0.1");
    const second = await auth.refresh(first.secrets.refreshToken, "refresh");
    equal(second.sessionId, first.sessionId);
    notEqual(second.secrets.refreshToken, first.secrets.refreshToken);
    equal((await auth.fromAccessToken(second.accessToken))?.user.username, "ada");
    await rejects(auth.refresh(first.secrets.refreshToken, "refresh"), code("unauthorized"));
    // Reuse means the token was copied: the whole session is gone, the new tokens too.
    await rejects(auth.refresh(second.secrets.refreshToken, "refresh"), code("unauthorized"));
    equal(await auth.fromAccessToken(second.accessToken), null);
    equal(await auth.fromCookie(second.secrets.cookieToken), null);
  });
});

Deno.test("refresh by cookie rotates the cookie; garbage and the wrong kind are unauthorized", async () => {
  await withAuth(async (auth) => {
    const grant = await auth.register(ada, "10.0.0.1");
    await rejects(auth.refresh(grant.secrets.cookieToken, "refresh"), code("unauthorized"));
    await rejects(auth.refresh("not-a-token", "cookie"), code("unauthorized"));
    const next = await auth.refresh(grant.secrets.cookieToken, "cookie");
    equal((await auth.fromCookie(next.secrets.cookieToken))?.sessionId, grant.sessionId);
    equal(await auth.fromCookie(grant.secrets.cookieToken), null, "the old cookie is spent");
  });
});

Deno.test("logout ends the session: its access token, cookie and refresh token stop working", async () => {
  await withAuth(async (auth) => {
    const grant = await auth.register(ada, "10.0.0.1");
    const other = await auth.login(ada, "10.0.0.1");
    await auth.logout(grant.sessionId);
    equal(await auth.fromAccessToken(grant.accessToken), null);
    equal(await auth.fromCookie(grant.secrets.cookieToken), null);
    await rejects(auth.refresh(grant.secrets.refreshToken, "refresh"), code("unauthorized"));
    equal(
      (await auth.fromAccessToken(other.accessToken))?.sessionId,
      other.sessionId,
      "others live on",
    );
    await auth.logout(grant.sessionId); // twice is harmless
  });
});

Deno.test("fromAccessToken refuses a token signed with another secret or tampered with", async () => {
  await withAuth(async (auth) => {
    const grant = await auth.register(ada, "10.0.0.1");
    const forged = await new TokenSigner("another-secret-of-sufficient-length!!", 900).sign({
      userId: grant.user.id,
      sessionId: grant.sessionId,
    });
    equal(await auth.fromAccessToken(forged), null);
    // One character changed inside the signature (not its last, which carries spare bits).
    const t = grant.accessToken, at = t.length - 10;
    const tampered = t.slice(0, at) + (t[at] === "A" ? "B" : "A") + t.slice(at + 1);
    equal(await auth.fromAccessToken(tampered), null);
    equal(await auth.fromAccessToken(""), null);
    equal(await auth.fromCookie("garbage"), null);
  });
});
