import { equal, notEqual } from "node:assert/strict";
import { addressKey, clientAddress, UNPARSEABLE } from "./address.ts";

Deno.test("addressKey keeps IPv4 as it is and counts IPv6 by its /64", () => {
  const cases: [string, string][] = [
    ["203.0.113.5", "203.0.113.5"],
    [" 203.0.113.5 ", "203.0.113.5"],
    ["203.0.113.5:4711", "203.0.113.5"],
    ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff::9", "2001:db8:1:2::/64"],
    ["[2001:db8::1]", "2001:db8:0:0::/64"],
    ["[2001:db8::1]:443", "2001:db8:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["2001:db8:ffff::1", "2001:db8:ffff:0::/64"],
  ];
  for (const [ip, key] of cases) equal(addressKey(ip), key, ip);
  equal(addressKey("2001:db8:1:2:1:1:1:1"), addressKey("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"), "the next /64");
});

Deno.test("addressKey reads the IPv4 inside IPv4-mapped and NAT64 addresses", () => {
  const cases: [string, string][] = [
    ["::ffff:198.51.100.7", "198.51.100.7"],
    ["::FFFF:198.51.100.7", "198.51.100.7"],
    ["0:0:0:0:0:ffff:198.51.100.7", "198.51.100.7"],
    ["::ffff:102:304", "1.2.3.4"],
    ["::ffff:c633:6407", "198.51.100.7"],
    ["64:ff9b::c633:6407", "198.51.100.7"],
    ["64:ff9b::198.51.100.7", "198.51.100.7"],
    ["[::ffff:198.51.100.7]:80", "198.51.100.7"],
  ];
  for (const [ip, key] of cases) equal(addressKey(ip), key, ip);
  // Outside 64:ff9b::/96 the same low bits are an ordinary IPv6 address.
  equal(addressKey("64:ff9c::c633:6407"), "64:ff9c:0:0::/64");
});

Deno.test("addressKey puts anything that is not an address in one shared bucket", () => {
  for (
    const s of [
      "",
      "unknown",
      "1.2.3",
      "0x7f.0.0.1",
      "127.1",
      "256.1.1.1",
      "1.2.3.4.5",
      "2001:db8::1::2",
      "evil\u0000",
      "x".repeat(5000),
    ]
  ) {
    equal(addressKey(s), UNPARSEABLE, JSON.stringify(s.slice(0, 20)));
  }
});

Deno.test("clientAddress trusts exactly TRUST_PROXY_HOPS entries of X-Forwarded-For", () => {
  const xff = "203.0.113.9, 198.51.100.7, 10.0.0.1";
  equal(clientAddress("10.0.0.2", xff, 0), "10.0.0.2", "no proxy: the header is ignored");
  equal(clientAddress("10.0.0.2", xff, 1), "10.0.0.1");
  equal(clientAddress("10.0.0.2", xff, 2), "198.51.100.7");
  equal(clientAddress("10.0.0.2", xff, 3), "203.0.113.9");
  equal(clientAddress("10.0.0.2", "198.51.100.7", 2), "198.51.100.7", "fewer entries");
  equal(clientAddress("10.0.0.2", null, 1), "10.0.0.2", "no header: the peer");
  equal(clientAddress("10.0.0.2", "2001:db8:1:2::5", 1), "2001:db8:1:2::/64");
  equal(clientAddress("10.0.0.2", "::ffff:198.51.100.7", 1), "198.51.100.7");
  equal(clientAddress(undefined, null, 0), UNPARSEABLE);
});
