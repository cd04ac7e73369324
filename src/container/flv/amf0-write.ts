import { AMF0, type AmfValue } from "./amf0.ts";

const utf8 = new TextEncoder();

/**
 * Encodes AMF0 values back to back (AMF0 spec §2): numbers as doubles, strings as `string` or, past
 * 65535 UTF-8 bytes, `long-string`, dates with a zero time zone, `undefined` as the undefined marker.
 */
export function encodeAmf0(values: readonly AmfValue[]): Uint8Array {
  const w = new Amf0Writer();
  for (const v of values) w.value(v);
  return w.finish();
}

class Amf0Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  value(v: AmfValue): void {
    if (typeof v === "number") {
      this.u8(AMF0.number);
      this.f64(v);
    } else if (typeof v === "boolean") {
      this.u8(AMF0.boolean);
      this.u8(v ? 1 : 0);
    } else if (typeof v === "string") {
      const b = utf8.encode(v);
      if (b.byteLength > 0xffff) {
        this.u8(AMF0.longString);
        this.u32(b.byteLength);
      } else {
        this.u8(AMF0.string);
        this.u16(b.byteLength);
      }
      this.bytes(b);
    } else if (v === null) {
      this.u8(AMF0.null);
    } else if (v === undefined) {
      this.u8(AMF0.undefined);
    } else if (v instanceof Date) {
      this.u8(AMF0.date);
      this.f64(v.getTime());
      this.u16(0);
    } else if (Array.isArray(v)) {
      this.u8(AMF0.strictArray);
      this.u32(v.length);
      for (const item of v) this.value(item);
    } else {
      if (v.kind === "ecma-array") {
        this.u8(AMF0.ecmaArray);
        this.u32(v.props.size);
      } else {
        this.u8(AMF0.object);
      }
      for (const [key, item] of v.props) {
        this.key(key);
        this.value(item);
      }
      this.u16(0);
      this.u8(AMF0.objectEnd);
    }
  }

  private key(k: string): void {
    const b = utf8.encode(k);
    if (b.byteLength > 0xffff) throw new RangeError(`AMF0 property name of ${b.byteLength} bytes`);
    this.u16(b.byteLength);
    this.bytes(b);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.byteLength) return;
    const next = new Uint8Array(Math.max(this.buf.byteLength * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v;
  }

  private u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.len, v);
    this.len += 2;
  }

  private u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.len, v);
    this.len += 4;
  }

  private f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.len, v);
    this.len += 8;
  }

  private bytes(b: Uint8Array): void {
    this.reserve(b.byteLength);
    this.buf.set(b, this.len);
    this.len += b.byteLength;
  }
}
