/**
 * Lossless JSON for KV keys and values. KV stores structured-clone values (Uint8Array, bigint,
 * Deno.KvU64, Date, Map, Set, RegExp, typed arrays, undefined, NaN, -0…) that `JSON.stringify`
 * would silently turn into `{}`, `null` or an exception; a backup must bring back exactly what
 * was stored. Every value that plain JSON cannot carry becomes a tagged object
 * `{"$t": type, ...}`; a plain object that happens to have a `$t` key is wrapped too, so
 * decoding is never ambiguous.
 * @module
 */

/** JSON as the backup file holds it. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const TYPED = {
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Encodes a structured-clone value as JSON.
 * @throws TypeError for a value KV cannot hold either (functions, symbols) or a cycle.
 * @example
 * JSON.stringify(encodeValue(new Deno.KvU64(5n))) // '{"$t":"u64","v":"5"}'
 */
export function encodeValue(value: unknown, seen: Set<object> = new Set()): Json {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isNaN(value)) return { $t: "num", v: "NaN" };
      if (value === Infinity) return { $t: "num", v: "Infinity" };
      if (value === -Infinity) return { $t: "num", v: "-Infinity" };
      if (Object.is(value, -0)) return { $t: "num", v: "-0" };
      return value;
    case "bigint":
      return { $t: "bigint", v: value.toString() };
    case "undefined":
      return { $t: "undefined" };
    case "function":
    case "symbol":
      throw new TypeError(`A ${typeof value} cannot be stored in KV or a backup.`);
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError("A value with a cycle cannot be written to a backup.");
  seen.add(obj);
  try {
    if (obj instanceof Deno.KvU64) return { $t: "u64", v: obj.value.toString() };
    if (obj instanceof Uint8Array) return { $t: "u8", v: toBase64(obj) };
    if (obj instanceof ArrayBuffer) return { $t: "buffer", v: toBase64(new Uint8Array(obj)) };
    if (ArrayBuffer.isView(obj)) {
      const bytes = new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength);
      return { $t: "view", k: obj.constructor.name, v: toBase64(bytes) };
    }
    if (obj instanceof Date) return { $t: "date", v: encodeValue(obj.getTime(), seen) };
    if (obj instanceof RegExp) return { $t: "regexp", source: obj.source, flags: obj.flags };
    if (obj instanceof Map) {
      return {
        $t: "map",
        v: [...obj].map(([k, v]) => [encodeValue(k, seen), encodeValue(v, seen)]),
      };
    }
    if (obj instanceof Set) return { $t: "set", v: [...obj].map((v) => encodeValue(v, seen)) };
    if (obj instanceof Error) {
      return { $t: "error", name: obj.name, message: obj.message };
    }
    if (Array.isArray(obj)) return obj.map((v) => encodeValue(v, seen));
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(obj)) out[k] = encodeValue(v, seen);
    return "$t" in out ? { $t: "object", v: out } : out;
  } finally {
    seen.delete(obj);
  }
}

/** Decodes what `encodeValue` wrote. @throws TypeError for an unknown tag. */
export function decodeValue(json: Json): unknown {
  if (json === null || typeof json !== "object") return json;
  if (Array.isArray(json)) return json.map(decodeValue);
  if (!("$t" in json)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(json)) out[k] = decodeValue(v);
    return out;
  }
  const t = json as Record<string, Json>;
  switch (t.$t) {
    case "num":
      return t.v === "-0" ? -0 : Number(t.v);
    case "bigint":
      return BigInt(t.v as string);
    case "undefined":
      return undefined;
    case "u64":
      return new Deno.KvU64(BigInt(t.v as string));
    case "u8":
      return fromBase64(t.v as string);
    case "buffer":
      return fromBase64(t.v as string).buffer;
    case "view": {
      const bytes = fromBase64(t.v as string);
      if (t.k === "DataView") return new DataView(bytes.buffer);
      const Ctor = TYPED[t.k as keyof typeof TYPED];
      if (!Ctor) throw new TypeError(`Unknown typed array ${String(t.k)} in the backup.`);
      return new Ctor(bytes.buffer);
    }
    case "date":
      return new Date(decodeValue(t.v) as number);
    case "regexp":
      return new RegExp(t.source as string, t.flags as string);
    case "map":
      return new Map((t.v as Json[][]).map(([k, v]) => [decodeValue(k), decodeValue(v)]));
    case "set":
      return new Set((t.v as Json[]).map(decodeValue));
    case "error": {
      const err = new Error(t.message as string);
      err.name = t.name as string;
      return err;
    }
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(t.v as Record<string, Json>)) out[k] = decodeValue(v);
      return out;
    }
  }
  throw new TypeError(`Unknown value tag ${JSON.stringify(t.$t)} in the backup.`);
}

/** Encodes a KV key (its parts are strings, numbers, bigints, booleans or Uint8Arrays). */
export function encodeKey(key: Deno.KvKey): Json[] {
  return key.map((part) => encodeValue(part));
}

/** Decodes a key written by `encodeKey`. @throws TypeError for a part KV keys cannot hold. */
export function decodeKey(json: Json[]): Deno.KvKey {
  if (!Array.isArray(json)) throw new TypeError("A key in the backup is not a list.");
  return json.map((part) => {
    const v = decodeValue(part);
    if (
      typeof v === "string" || typeof v === "number" || typeof v === "bigint" ||
      typeof v === "boolean" || v instanceof Uint8Array
    ) return v;
    throw new TypeError(`A key part in the backup has a type KV keys cannot hold.`);
  });
}
