/**
 * Well-formed Unicode for strings that become part of a KV key. KV encodes key strings as
 * UTF-8 and turns every lone surrogate into U+FFFD, so `"X\ud800"` and `"X\udfff"` would name
 * one key: a second message would get the first's ack and never be stored (contract part F).
 * Browser compatible: no imports with side effects.
 * @module
 */
import * as v from "valibot";

/** True when `s` holds no lone surrogate (`String.prototype.isWellFormed`). */
export function isWellFormed(s: string): boolean {
  return s.isWellFormed();
}

/**
 * A valibot check for a string that must be well-formed Unicode.
 * @example
 * v.pipe(v.string(), wellFormed("id")) // "X\ud800" fails: "id must be well-formed Unicode …"
 */
export function wellFormed(name: string) {
  return v.check<string, string>(
    isWellFormed,
    `${name} must be well-formed Unicode (no lone surrogate halves).`,
  );
}
