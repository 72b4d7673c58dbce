import { deepStrictEqual as eq, equal, ok, throws } from "node:assert/strict";
import { withKv } from "./testing.ts";
import { decodeKey, decodeValue, encodeKey, encodeValue } from "./codec.ts";

/** Through real KV (structured clone), then JSON text, then back: what comes out is what went in. */
Deno.test("encodeValue()/decodeValue() bring back every structured-clone value KV holds", async () => {
  const value = {
    text: "héllo \u2028 😀",
    n: 1.5,
    neg0: -0,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    big: 12345678901234567890n,
    bytes: new Uint8Array([0, 1, 254, 255]),
    i16: new Int16Array([-2, 300]),
    f64: new Float64Array([0.1, -1e300]),
    buf: new Uint8Array([9, 8]).buffer,
    date: new Date(1700000000123),
    badDate: new Date(NaN),
    re: /a+b/gi,
    map: new Map<unknown, unknown>([["k", 1], [2, new Set(["x"])]]),
    set: new Set([1, "two"]),
    undef: undefined,
    nul: null,
    list: [1, undefined, { $t: "trap", v: 1 }],
    $t: "a plain key named like the tag",
  };
  await withKv(async (kv) => {
    await kv.set(["v"], value);
    const stored = (await kv.get(["v"])).value;
    const text = JSON.stringify(encodeValue(stored));
    const back = decodeValue(JSON.parse(text)) as typeof value;
    eq(back, stored);
    ok(Object.is(back.neg0, -0));
    ok(back.bytes instanceof Uint8Array);
    ok(back.i16 instanceof Int16Array);
    ok(back.buf instanceof ArrayBuffer);
    ok(back.map instanceof Map && back.set instanceof Set);
    ok(Number.isNaN(back.badDate.getTime()));
    // And it can be stored again, unchanged.
    await kv.set(["w"], back);
    eq((await kv.get(["w"])).value, stored);
    // KV keeps a Deno.KvU64 as such only at the top level of a value (what `sum` needs).
    await kv.set(["u"], new Deno.KvU64(18446744073709551615n));
    const u64 = decodeValue(JSON.parse(JSON.stringify(encodeValue((await kv.get(["u"])).value))));
    ok(u64 instanceof Deno.KvU64);
    equal(u64.value, 18446744073709551615n);
    await kv.set(["u3"], u64);
    await kv.atomic().sum(["u3"], 0n).commit();
    equal((await kv.get<Deno.KvU64>(["u3"])).value!.value, 18446744073709551615n);
  });
});

Deno.test("encodeKey()/decodeKey() bring back every kind of key part", async () => {
  const key: Deno.KvKey = ["s", 1.5, -3, 10n, true, new Uint8Array([1, 2])];
  await withKv(async (kv) => {
    await kv.set(key, 1);
    const back = decodeKey(JSON.parse(JSON.stringify(encodeKey(key))));
    eq(back, key);
    equal((await kv.get(back)).value, 1);
  });
});

Deno.test("encodeValue() refuses a cycle with a clear error instead of overflowing", () => {
  const a: Record<string, unknown> = {};
  a.self = a;
  throws(() => encodeValue(a), /cycle/);
  const shared = { x: 1 };
  // The same object twice is no cycle.
  eq(decodeValue(encodeValue([shared, shared])), [{ x: 1 }, { x: 1 }]);
});

Deno.test("decodeValue() names an unknown tag", () => {
  throws(() => decodeValue({ $t: "nope" }), /Unknown value tag "nope"/);
});
