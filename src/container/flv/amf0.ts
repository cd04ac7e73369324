import { ParseError } from "../errors.ts";

/**
 * AMF0 values (Adobe AMF0 File Format Specification, 2006), as used by FLV script data tags and RTMP
 * command/data messages. Decoding is bounded: nesting depth, value count and every declared length are
 * checked against the bytes actually present, and object keys (publisher-controlled text) live in a Map,
 * never on a plain object.
 */

/** Type markers, AMF0 spec §2.1. */
export const AMF0 = {
  number: 0x00,
  boolean: 0x01,
  string: 0x02,
  object: 0x03,
  movieclip: 0x04, // reserved, not supported
  null: 0x05,
  undefined: 0x06,
  reference: 0x07,
  ecmaArray: 0x08,
  objectEnd: 0x09,
  strictArray: 0x0a,
  date: 0x0b,
  longString: 0x0c,
  unsupported: 0x0d,
  recordset: 0x0e, // reserved, not supported
  xmlDocument: 0x0f,
  typedObject: 0x10,
  avmplusObject: 0x11, // switch to AMF3 (§3.1); not supported here
} as const;

/** An anonymous/typed object (`object`) or an associative array (`ecma-array`), keys in wire order. */
export interface AmfMap {
  kind: "object" | "ecma-array";
  props: Map<string, AmfValue>;
}

export type AmfValue = number | boolean | string | null | undefined | Date | AmfValue[] | AmfMap;

/** Limits of one decode call. */
export interface AmfLimits {
  /** Deepest nesting of objects/arrays (the top-level values are depth 0). */
  maxDepth: number;
  /** Most values (including nested ones and keys) one decode call may produce. */
  maxValues: number;
}

const DEFAULT_AMF_LIMITS: AmfLimits = { maxDepth: 16, maxValues: 65_536 };

const utf8 = new TextDecoder("utf-8");

/** Builds an `object` from entries whose keys are the caller's own (never publisher text). */
export function amfObject(entries: Record<string, AmfValue>, kind: AmfMap["kind"] = "object"): AmfMap {
  return { kind, props: new Map(Object.entries(entries)) };
}

export function isAmfMap(v: AmfValue): v is AmfMap {
  return typeof v === "object" && v !== null && !(v instanceof Date) && !Array.isArray(v);
}

/** `v[key]` when `v` is an object or ECMA array, else undefined. */
export function amfGet(v: AmfValue, key: string): AmfValue {
  return isAmfMap(v) ? v.props.get(key) : undefined;
}

/** Decodes consecutive AMF0 values filling `bytes` from `start` (a command's name, transaction id, arguments). */
export function decodeAmf0(bytes: Uint8Array, start = 0, limits: AmfLimits = DEFAULT_AMF_LIMITS): AmfValue[] {
  const d = new Amf0Decoder(bytes, start, limits);
  const out: AmfValue[] = [];
  while (d.pos < bytes.byteLength) out.push(d.value(0));
  return out;
}

class Amf0Decoder {
  pos: number;
  private readonly view: DataView;
  private values = 0;
  /** Complex values in decode order, for reference markers (§2.9). */
  private readonly refs: AmfValue[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly limits: AmfLimits,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  value(depth: number): AmfValue {
    if (++this.values > this.limits.maxValues) throw new ParseError("too-large", `AMF0 data has more than ${this.limits.maxValues} values`);
    const marker = this.u8();
    switch (marker) {
      case AMF0.number:
        this.need(8);
        this.pos += 8;
        return this.view.getFloat64(this.pos - 8);
      case AMF0.boolean:
        return this.u8() !== 0;
      case AMF0.string:
        return this.string(this.u16());
      case AMF0.longString:
      case AMF0.xmlDocument:
        return this.string(this.u32());
      case AMF0.null:
        return null;
      case AMF0.undefined:
      case AMF0.unsupported:
        return undefined;
      case AMF0.date: {
        this.need(10);
        const ms = this.view.getFloat64(this.pos);
        this.pos += 10; // time-zone S16 follows: reserved, "should be 0" (§2.13)
        return new Date(ms);
      }
      case AMF0.object:
        return this.map("object", depth, false);
      case AMF0.typedObject:
        this.string(this.u16()); // class name, dropped
        return this.map("object", depth, false);
      case AMF0.ecmaArray:
        this.need(4);
        this.pos += 4; // associative-count: a hint only, real encoders get it wrong (§2.10)
        return this.map("ecma-array", depth, true);
      case AMF0.strictArray:
        return this.array(depth);
      case AMF0.reference: {
        const index = this.u16();
        const target = this.refs[index];
        if (target === undefined) throw new ParseError("malformed", `AMF0 reference ${index} to no earlier object`);
        return target;
      }
      default:
        throw new ParseError("malformed", `AMF0 marker 0x${marker.toString(16)} at ${this.pos - 1} is not supported`);
    }
  }

  /** Properties until the object-end marker (an empty key then 0x09). `openEnd`: end of data also ends it (ECMA arrays written without the marker). */
  private map(kind: AmfMap["kind"], depth: number, openEnd: boolean): AmfMap {
    this.nest(depth);
    const out: AmfMap = { kind, props: new Map() };
    this.refs.push(out);
    for (;;) {
      if (openEnd && this.pos >= this.bytes.byteLength) return out;
      const key = this.string(this.u16());
      if (key === "" && this.pos < this.bytes.byteLength && this.bytes[this.pos] === AMF0.objectEnd) {
        this.pos++;
        return out;
      }
      if (++this.values > this.limits.maxValues)
        throw new ParseError("too-large", `AMF0 data has more than ${this.limits.maxValues} values`);
      out.props.set(key, this.value(depth + 1));
    }
  }

  private array(depth: number): AmfValue[] {
    this.nest(depth);
    const count = this.u32();
    // Every value takes at least one byte: a count beyond the bytes left is a lie (no huge allocation).
    if (count > this.bytes.byteLength - this.pos)
      throw new ParseError("malformed", `AMF0 strict array of ${count} values in ${this.bytes.byteLength - this.pos} bytes`);
    const out: AmfValue[] = [];
    this.refs.push(out);
    for (let i = 0; i < count; i++) out.push(this.value(depth + 1));
    return out;
  }

  private nest(depth: number): void {
    if (depth >= this.limits.maxDepth) throw new ParseError("too-large", `AMF0 nesting deeper than ${this.limits.maxDepth}`);
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.byteLength)
      throw new ParseError("malformed", `AMF0 value needs ${n} bytes at ${this.pos}, only ${this.bytes.byteLength - this.pos} left`);
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    this.pos += 2;
    return this.view.getUint16(this.pos - 2);
  }

  private u32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getUint32(this.pos - 4);
  }

  private string(len: number): string {
    this.need(len);
    this.pos += len;
    return utf8.decode(this.bytes.subarray(this.pos - len, this.pos));
  }
}
