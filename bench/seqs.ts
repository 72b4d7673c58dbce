/**
 * Per-conversation tallies indexed by message seq, for the generator's hot path: a typed array
 * from the lowest seq seen, grown in either direction, instead of a Set or Map with an entry
 * per message (a thousand clients × thousands of messages made those the generator's largest
 * cost in garbage collection).
 * @module
 */

/** A count per seq (how many clients received it). */
export class SeqCounts {
  #started = false;
  #base = 0;
  #counts = new Uint32Array(0);

  /** Adds one to `seq`'s count. */
  add(seq: number): void {
    const i = this.#slot(seq);
    this.#counts[i]++;
  }

  get(seq: number): number {
    const i = seq - this.#base;
    return i < 0 || i >= this.#counts.length ? 0 : this.#counts[i];
  }

  /** Every seq with a count above zero, ascending. */
  *entries(): Generator<[number, number]> {
    for (let i = 0; i < this.#counts.length; i++) {
      if (this.#counts[i] > 0) yield [this.#base + i, this.#counts[i]];
    }
  }

  #slot(seq: number): number {
    if (!this.#started) {
      // Room below the first seq for a few that arrive out of order at other clients.
      this.#started = true;
      this.#base = seq - 64;
      this.#counts = new Uint32Array(256);
    }
    if (seq < this.#base) {
      const base = seq - 64;
      const grown = new Uint32Array(this.#counts.length + (this.#base - base));
      grown.set(this.#counts, this.#base - base);
      this.#counts = grown;
      this.#base = base;
    }
    const i = seq - this.#base;
    if (i >= this.#counts.length) {
      const grown = new Uint32Array(Math.max(i + 1, this.#counts.length * 2));
      grown.set(this.#counts);
      this.#counts = grown;
    }
    return i;
  }
}

/** Which seqs one client has seen: a bit per seq. */
export class SeqSet {
  #started = false;
  #base = 0;
  #bits = new Uint8Array(0);

  /** Marks `seq` seen; false when it already was. */
  add(seq: number): boolean {
    if (!this.#started) {
      this.#started = true;
      this.#base = seq - 512;
      this.#bits = new Uint8Array(128);
    }
    if (seq < this.#base) {
      // Rebase on a byte boundary so that the old bits keep their positions within a byte.
      const base = this.#base - Math.ceil((this.#base - seq + 512) / 8) * 8;
      const grown = new Uint8Array(this.#bits.length + (this.#base - base) / 8);
      grown.set(this.#bits, (this.#base - base) / 8);
      this.#bits = grown;
      this.#base = base;
    }
    const i = seq - this.#base;
    const byte = i >> 3, bit = 1 << (i & 7);
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.#bits.length * 2));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    if (this.#bits[byte] & bit) return false;
    this.#bits[byte] |= bit;
    return true;
  }
}
