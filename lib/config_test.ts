import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import { loadConfig } from "./config.ts";

Deno.test("loadConfig uses safe defaults for an empty environment", () => {
  const config = loadConfig({});
  equal(config.port, 8000);
  match(config.kvPath, /^(\.\/)?data\//);
  equal(config.broadcast, true);
  equal(config.jwtSecret, null, "no hard-coded signing secret");
  deepStrictEqual(config.allowedOrigins, []);
  ok(config.accessTokenTtlSec > 0);
  ok(config.sessionTtlSec > config.accessTokenTtlSec);
  ok(config.heartbeatTimeoutMs >= 60_000);
  equal(config.registrationsPerHour, 30, "sign-ups are limited per address by default");
});

Deno.test("loadConfig reads overrides from the injected environment", () => {
  const config = loadConfig({
    PORT: "9123",
    HOST: "127.0.0.1",
    KV_PATH: ":memory:",
    JWT_SECRET: "s3cret-s3cret-s3cret-s3cret-s3cret",
    ALLOWED_ORIGINS: "https://a.example, https://b.example ,",
    BROADCAST: "off",
    ACCESS_TOKEN_TTL_SEC: "60",
    SESSION_TTL_SEC: "3600",
    HEARTBEAT_TIMEOUT_MS: "5000",
    REGISTER_LIMIT_PER_HOUR: "0",
  });
  equal(config.port, 9123);
  equal(config.host, "127.0.0.1");
  equal(config.kvPath, ":memory:");
  equal(config.jwtSecret, "s3cret-s3cret-s3cret-s3cret-s3cret");
  deepStrictEqual(config.allowedOrigins, ["https://a.example", "https://b.example"]);
  equal(config.broadcast, false);
  equal(config.accessTokenTtlSec, 60);
  equal(config.sessionTtlSec, 3600);
  equal(config.registrationsPerHour, 0);
  equal(config.heartbeatTimeoutMs, 5000);
  for (const off of ["0", "false", "FALSE", "no"]) {
    equal(loadConfig({ BROADCAST: off }).broadcast, false);
  }
  equal(loadConfig({ BROADCAST: "1" }).broadcast, true);
});

Deno.test("loadConfig refuses a PORT that is not a number or is negative", () => {
  for (const port of ["abc", "-1", "8000abc"]) {
    throws(() => loadConfig({ PORT: port }), /PORT/, port);
  }
});

Deno.test("loadConfig refuses a PORT that is fractional or above 65535", () => {
  for (const port of ["80.5", "70000"]) throws(() => loadConfig({ PORT: port }), /PORT/, port);
});

Deno.test("loadConfig names LOG_LEVEL or BROADCAST when its value is unknown", () => {
  throws(() => loadConfig({ LOG_LEVEL: "verbose" }), /LOG_LEVEL must be one of debug, info/);
  throws(() => loadConfig({ BROADCAST: "maybe" }), /BROADCAST must be one of/);
  equal(loadConfig({ LOG_LEVEL: "WARN" }).logLevel, "warn");
  equal(loadConfig({ LOG_LEVEL: "" }).logLevel, "info");
});

Deno.test("loadConfig reads METRICS_TOKEN and bounds DRAIN_MS below the 5 s exit", () => {
  equal(loadConfig({}).metricsToken, null);
  equal(loadConfig({ METRICS_TOKEN: "t0ken" }).metricsToken, "t0ken");
  equal(loadConfig({ DRAIN_MS: "60000" }).drainMs, 4000);
  equal(loadConfig({ DRAIN_MS: "500" }).drainMs, 500);
  equal(loadConfig({ METRICS_INTERVAL_MS: "10" }).metricsIntervalMs, 1000);
});
