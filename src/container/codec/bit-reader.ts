import { ParseError } from "../errors.ts";

/**
 * MSB-first bit reader over an RBSP (emulation prevention bytes already removed), with the
 * Exp-Golomb codes of ITU-T H.264 §9.1 / H.265 §9.2. Every read past the end throws
 * `ParseError("malformed")`; values are capped at 32 bits so a hostile run of zero bits cannot
 * produce an unbounded number.
 */
export class BitReader {
  private readonly bytes: Uint8Array;
  private bit = 0;
  private readonly what: string;

  constructor(bytes: Uint8Array, what = "bitstream") {
    this.bytes = bytes;
    this.what = what;
  }

  /** Bits left to read. */
  get remaining(): number {
    return this.bytes.byteLength * 8 - this.bit;
  }

  /** Position in bits from the start. */
  get position(): number {
    return this.bit;
  }

  /** One bit as 0/1. */
  u1(): number {
    if (this.bit >= this.bytes.byteLength * 8) throw new ParseError("malformed", `${this.what} ends early`);
    const v = (this.bytes[this.bit >> 3]! >> (7 - (this.bit & 7))) & 1;
    this.bit++;
    return v;
  }

  /** `n` bits (0..32) as an unsigned number. */
  bits(n: number): number {
    if (n > this.remaining) throw new ParseError("malformed", `${this.what} ends early`);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.u1();
    return v;
  }

  skip(n: number): void {
    if (n > this.remaining) throw new ParseError("malformed", `${this.what} ends early`);
    this.bit += n;
  }

  /** ue(v): unsigned Exp-Golomb. */
  ue(): number {
    let zeros = 0;
    while (this.u1() === 0) {
      if (++zeros > 31) throw new ParseError("malformed", `${this.what}: Exp-Golomb code longer than 32 bits`);
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** se(v): signed Exp-Golomb (k → (-1)^(k+1) ceil(k/2)). */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** ue(v) that must not exceed `max` (a table size or a syntax limit of the spec). */
  ueMax(max: number, field: string): number {
    const v = this.ue();
    if (v > max) throw new ParseError("malformed", `${this.what}: ${field} ${v} above ${max}`);
    return v;
  }
}
