/**
 * A small big-endian writer for ISO BMFF boxes (ISO/IEC 14496-12 §4.2) over one Uint8Array: byte
 * stores only (no DataView, no per-byte array pushes), growing by doubling when created without an
 * exact size.
 */
export class BoxWriter {
  bytes: Uint8Array;
  pos = 0;
  private readonly fixed: boolean;

  /**
   * `capacity` bytes to start with. With `exact`, the caller promises to write exactly `capacity`
   * bytes: the buffer never grows and `finish()` returns it without a copy.
   */
  constructor(capacity = 256, exact = false) {
    this.bytes = new Uint8Array(capacity);
    this.fixed = exact;
  }

  /** Makes room for `n` more bytes. */
  private room(n: number): void {
    const need = this.pos + n;
    if (need <= this.bytes.byteLength) return;
    if (this.fixed) throw new RangeError(`BoxWriter sized for ${this.bytes.byteLength} bytes, asked to write ${need}`);
    let size = this.bytes.byteLength * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  u8(v: number): void {
    this.room(1);
    this.bytes[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    const b = this.bytes;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }

  u24(v: number): void {
    this.room(3);
    const b = this.bytes;
    const p = this.pos;
    b[p] = v >>> 16;
    b[p + 1] = v >>> 8;
    b[p + 2] = v;
    this.pos = p + 3;
  }

  /** Unsigned or two's complement signed 32-bit (Uint8Array stores keep the low 8 bits). */
  u32(v: number): void {
    this.room(4);
    const b = this.bytes;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  /** Unsigned 64-bit from a non-negative safe integer. */
  u64(v: number): void {
    const hi = Math.floor(v / 0x1_0000_0000);
    this.u32(hi);
    this.u32(v - hi * 0x1_0000_0000);
  }

  /** `n` zero bytes. */
  zeros(n: number): void {
    this.room(n);
    this.bytes.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Copies `data` in. */
  data(data: Uint8Array): void {
    this.room(data.byteLength);
    this.bytes.set(data, this.pos);
    this.pos += data.byteLength;
  }

  /** Opens a box of type `type` (numeric fourcc): writes a placeholder size; returns its start for `end`. */
  begin(type: number): number {
    const start = this.pos;
    this.u32(0);
    this.u32(type);
    return start;
  }

  /** Opens a FullBox: header, then version (8 bits) and flags (24 bits). */
  beginFull(type: number, version: number, flags: number): number {
    const start = this.begin(type);
    this.u8(version);
    this.u24(flags);
    return start;
  }

  /** Closes the box opened at `start`: patches its 32-bit size. */
  end(start: number): void {
    const size = this.pos - start;
    const b = this.bytes;
    b[start] = size >>> 24;
    b[start + 1] = size >>> 16;
    b[start + 2] = size >>> 8;
    b[start + 3] = size;
  }

  /** The written bytes: the buffer itself when sized exactly, else an exact copy. */
  finish(): Uint8Array {
    if (this.pos === this.bytes.byteLength) return this.bytes;
    if (this.fixed) throw new RangeError(`BoxWriter sized for ${this.bytes.byteLength} bytes, only ${this.pos} written`);
    return this.bytes.slice(0, this.pos);
  }
}
