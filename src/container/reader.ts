import { ParseError } from "./errors.ts";

/**
 * Bounds-checked big-endian reader over one complete box/element payload. Every read past the end
 * throws `ParseError("malformed")` instead of returning garbage or a RangeError.
 */
export class Reader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  pos: number;

  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  need(n: number, what = "field"): void {
    if (n < 0 || this.pos + n > this.bytes.byteLength) {
      throw new ParseError("malformed", `${what} needs ${n} bytes at ${this.pos}, only ${this.remaining} left`);
    }
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  i16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  u24(): number {
    return (this.u8() << 16) | this.u16();
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  /** 64-bit unsigned as a JS number; exact below 2^53, which every real size and time is. */
  u64(): number {
    const hi = this.u32();
    const lo = this.u32();
    return hi * 0x1_0000_0000 + lo;
  }
  /** Unsigned big-endian integer of 1..8 bytes (EBML uint). */
  uint(len: number): number {
    this.need(len, "uint");
    let v = 0;
    for (let i = 0; i < len; i++) v = v * 256 + this.bytes[this.pos + i]!;
    this.pos += len;
    return v;
  }
  /** IEEE float of 4 or 8 bytes (EBML float). */
  float(len: number): number {
    this.need(len, "float");
    const v = len === 4 ? this.view.getFloat32(this.pos) : len === 8 ? this.view.getFloat64(this.pos) : 0;
    this.pos += len;
    return v;
  }
  fourcc(): string {
    this.need(4, "fourcc");
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
  }
  /** ASCII/UTF-8 string of `len` bytes, trailing NULs removed. */
  string(len: number): string {
    this.need(len, "string");
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s.replace(/\0+$/, "");
  }
  sub(len: number): Reader {
    this.need(len, "sub-reader");
    const r = new Reader(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return r;
  }
  skip(len: number): void {
    this.need(len, "skip");
    this.pos += len;
  }
}

/** Two-digit uppercase hex, as RFC 6381 codec strings use. */
export function hex2(n: number): string {
  return (n & 0xff).toString(16).toUpperCase().padStart(2, "0");
}
