/**
 * Client addresses as the throttles count them, parsed by ipaddr.js rather than by regexes:
 * every spelling of one address must land in one bucket, or a client could multiply its
 * allowance by rewriting its address (`::ffff:1.2.3.4` vs `1.2.3.4`, `2001:DB8::1` vs
 * `2001:db8:0:0::1`, one /64 vs its 2^64 addresses).
 * @module
 */
import ipaddr from "ipaddr.js";

/** The bucket for everything that is not an address: one shared bucket, so garbage cannot be
 * rotated to get a fresh allowance per request. */
export const UNPARSEABLE = "unparseable";

/** Strips what may surround an address in a header: brackets, a port, a zone. */
function bare(raw: string): string {
  let s = raw.trim();
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(s);
  if (v4port) s = v4port[1];
  return s.replace(/%.*$/, "");
}

/** Parses an address; IPv4-mapped and NAT64 (64:ff9b::/96) IPv6 give the IPv4 inside. */
export function parseAddress(raw: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const s = bare(raw);
  if (!ipaddr.isValid(s)) return null;
  // Only the four-part dotted form for IPv4: ipaddr.js also reads "127.1" or "0x7f.1", which
  // no peer address or proxy header uses.
  if (!s.includes(":") && !ipaddr.IPv4.isValidFourPartDecimal(s)) return null;
  const addr = ipaddr.process(s);
  if (addr.kind() === "ipv6" && addr.range() === "rfc6052") {
    const p = (addr as ipaddr.IPv6).parts;
    return new ipaddr.IPv4([p[6] >> 8, p[6] & 255, p[7] >> 8, p[7] & 255]);
  }
  return addr;
}

/**
 * The key an address is counted under: an IPv4 address as it is, an IPv6 address by its /64
 * (one subscriber usually holds a whole /64, so counting single addresses would limit
 * nobody), an IPv4-mapped or NAT64 address as the IPv4 one, anything else `UNPARSEABLE`.
 * @example
 * addressKey("2001:db8:1:2::7"); // "2001:db8:1:2::/64"
 * addressKey("::ffff:198.51.100.7"); // "198.51.100.7"
 */
export function addressKey(raw: string): string {
  const addr = parseAddress(raw);
  if (!addr) return UNPARSEABLE;
  if (addr.kind() === "ipv4") return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  return parts.map((p) => p.toString(16)).join(":") + "::/64";
}

/**
 * The address a request came from. Behind `trustProxyHops` reverse proxies
 * (TRUST_PROXY_HOPS) it is the one the outermost of them saw: that many entries from the end
 * of X-Forwarded-For, each proxy having appended its peer. Without that setting the header is
 * ignored, since any client can send it.
 * @example
 * clientAddress("10.0.0.2", "203.0.113.9, 198.51.100.7", 1); // "198.51.100.7"
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | null | undefined,
  trustProxyHops: number,
): string {
  let addr = peer ?? "";
  if (trustProxyHops > 0) {
    const hops = (forwardedFor ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    addr = hops[hops.length - trustProxyHops] ?? hops[0] ?? addr;
  }
  return addressKey(addr);
}
