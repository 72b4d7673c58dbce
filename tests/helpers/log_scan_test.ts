import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { SignJWT } from "jose";
import { scanLogDir, secretsIn, verdict } from "./log_scan.ts";

const none = new Map<string, string>();

Deno.test("secretsIn() finds every shape of secret the servers handle, and passes clean lines", async () => {
  const jwt = await new SignJWT({ sub: "u1" }).setProtectedHeader({ alg: "HS256" })
    .setIssuedAt().sign(new TextEncoder().encode("k".repeat(32)));
  const token = `${crypto.randomUUID()}.${"Ab_-".repeat(10)}xyz`;
  const leaks: [string, string][] = [
    [`{"msg":"request","url":"/api/ws?token=${jwt}"}`, "a JWT"],
    [
      `{"msg":"refresh","refreshToken":"${token}"}`,
      "a session token (refresh token or cookie value)",
    ],
    [`{"msg":"x","headers":{"authorization":"Basic dXNlcjpwdw=="}}`, "an Authorization header"],
    [`upstream said: Bearer abcdefgh12345678`, "a Bearer credential"],
    [`{"msg":"x","hdr":"parley_session=abc"}`, "the session cookie"],
    [`{"msg":"x","cookie":"sid=abc"}`, "a Cookie header"],
    [`{"msg":"login","body":{"username":"bob","password":"hunter22"}}`, "a password field"],
    [`{"msg":"form","csrf_token":"a1b2c3"}`, "a CSRF token"],
  ];
  for (const [line, what] of leaks) {
    ok(secretsIn(line, none).some((f) => f.what === what), `${what} in ${line}`);
  }
  const known = new Map([["s3cret-Pw-123", "password"]]);
  deepStrictEqual(secretsIn(`{"msg":"oops","detail":"s3cret-Pw-123"}`, known).map((f) => f.what), [
    "a password used in a test",
  ]);
  // What the servers do log: request lines, closes, security events with ids and names.
  for (
    const clean of [
      `{"ts":"2026-12-01T00:00:00.000Z","level":"info","msg":"request","requestId":"abc","method":"POST","route":"/api/auth/login","status":401,"ms":3.2}`,
      `{"level":"warn","msg":"security event","event":"session_revoked","sessionId":"${crypto.randomUUID()}","userId":"u1"}`,
      `{"level":"warn","msg":"security event","event":"login_failed","username":"password_fan","addr":"127.0.0.1"}`,
      `{"level":"info","msg":"socket closed","code":4001,"reason":"session revoked"}`,
    ]
  ) deepStrictEqual(secretsIn(clean, none), [], clean);
});

Deno.test("scanLogDir() reads in-process and child logs, and a thin whole run fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-scan-" });
  try {
    const inproc = [
      { server: "inproc-1-a-1", line: `{"msg":"request"}` },
      { server: "inproc-1-a-2", line: `{"msg":"request"}` },
      { server: "inproc-1-a-2", line: `{"msg":"oops","detail":"my-Password-9"}` },
    ].map((r) => JSON.stringify(r)).join("\n");
    await Deno.writeTextFile(`${dir}/inproc-1-a.log`, inproc + "\n");
    await Deno.writeTextFile(`${dir}/child-1-a-3.log`, `[serve-worker-0 ] {"msg":"request"}\n`);
    await Deno.writeTextFile(
      `${dir}/1-a.secrets.jsonl`,
      JSON.stringify({ kind: "password", value: "my-Password-9" }) + "\n",
    );
    const r = await scanLogDir(dir);
    deepStrictEqual(
      [r.files, r.lines, r.inprocServers, r.childServers, r.knownSecrets],
      [2, 4, 2, 1, 1],
    );
    equal(r.findings.length, 1);
    equal(r.findings[0].server, "inproc-1-a-2");
    ok(!r.findings[0].excerpt.includes("my-Password-9"), "the report masks the secret");
    equal(verdict(r, false).ok, false, "a secret fails any run");
    r.findings = [];
    equal(verdict(r, false).ok, true);
    const thin = verdict(r, true);
    equal(thin.ok, false, "a whole run that saw four lines proves nothing");
    ok(thin.problems.some((p) => p.includes("inprocServers")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
