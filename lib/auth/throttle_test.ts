import { equal, ok } from "node:assert/strict";
import {
  addressKey,
  clearLoginFailures,
  loginBlockedFor,
  reserveLoginAttempt,
  THROTTLE,
} from "./throttle.ts";
import { withKv } from "../store/testing.ts";

Deno.test("a username gets 5 attempts per window; the 6th is told how long to wait", async () => {
  await withKv(async (kv) => {
    for (let i = 0; i < THROTTLE.perUser; i++) {
      equal(await reserveLoginAttempt(kv, "alice", "10.0.0.1"), 0, `attempt ${i + 1}`);
    }
    const wait = await reserveLoginAttempt(kv, "alice", "10.0.0.2");
    ok(wait > 0 && wait <= THROTTLE.windowMs, String(wait));
    ok(await loginBlockedFor(kv, "alice", "10.0.0.3") > 0);
    equal(await reserveLoginAttempt(kv, "bob", "10.0.0.1"), 0, "other usernames are not blocked");
  });
});

Deno.test("parallel attempts for one username cannot exceed the limit", async () => {
  await withKv(async (kv) => {
    const waits = await Promise.all(
      Array.from({ length: 40 }, (_, i) => reserveLoginAttempt(kv, "alice", `10.0.0.${i}`)),
    );
    equal(waits.filter((w) => w === 0).length, THROTTLE.perUser);
  });
});

Deno.test("an address gets 100 attempts per window across usernames", async () => {
  await withKv(async (kv) => {
    for (let i = 0; i < THROTTLE.perAddr; i++) {
      equal(await reserveLoginAttempt(kv, `user${i}`, "10.9.9.9"), 0, `attempt ${i + 1}`);
    }
    ok(await reserveLoginAttempt(kv, "fresh_user", "10.9.9.9") > 0);
    equal(await reserveLoginAttempt(kv, "fresh_user", "10.9.9.8"), 0);
  });
});

Deno.test("a successful attempt clears the username's failures and does not count against the address", async () => {
  await withKv(async (kv) => {
    for (let i = 0; i < 4; i++) await reserveLoginAttempt(kv, "alice", "10.0.0.1");
    equal(await reserveLoginAttempt(kv, "alice", "10.0.0.1"), 0);
    await clearLoginFailures(kv, "alice", "10.0.0.1");
    for (let i = 0; i < THROTTLE.perUser; i++) {
      equal(
        await reserveLoginAttempt(kv, "alice", "10.0.0.1"),
        0,
        `after success, attempt ${i + 1}`,
      );
    }
    ok(await reserveLoginAttempt(kv, "alice", "10.0.0.1") > 0);

    // 200 successful sign-ins from one address never block it.
    for (let i = 0; i < 200; i++) {
      equal(await reserveLoginAttempt(kv, `ok${i}`, "10.7.7.7"), 0, `success ${i + 1}`);
      await clearLoginFailures(kv, `ok${i}`, "10.7.7.7");
    }
  });
});

Deno.test("addresses are counted as the subscriber holds them: IPv6 by its /64, mapped IPv4 as IPv4", () => {
  const cases: [string, string][] = [
    ["203.0.113.5", "203.0.113.5"],
    ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff::9", "2001:db8:1:2::/64"],
    ["[2001:db8::1]", "2001:db8:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:198.51.100.7", "198.51.100.7"],
    ["::ffff:102:304", "1.2.3.4"],
    ["64:ff9b::c633:6407", "198.51.100.7"],
    ["2001:db8:ffff::1", "2001:db8:ffff:0::/64"],
  ];
  for (const [ip, key] of cases) equal(addressKey(ip), key, ip);
  equal(
    addressKey("2001:db8:1:2:1:1:1:1"),
    addressKey("2001:db8:1:2:ffff:ffff:ffff:ffff"),
    "one /64 is one subscriber",
  );
  ok(addressKey("2001:db8:1:2::1") !== addressKey("2001:db8:1:3::1"), "the next /64 is another");
});
