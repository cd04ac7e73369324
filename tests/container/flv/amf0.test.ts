import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/container/errors.ts";
import { AMF0, type AmfValue, amfGet, amfObject, decodeAmf0 } from "../../../src/container/flv/amf0.ts";
import { encodeAmf0 } from "../../../src/container/flv/amf0-write.ts";
import { prng } from "../../helpers/feed.ts";

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e.reason;
    throw e;
  }
  return "no error";
}

describe("AMF0", () => {
  test("every value type round-trips", () => {
    const values: AmfValue[] = [
      0,
      -1.5,
      Number.MAX_VALUE,
      true,
      false,
      "",
      "connect",
      "ünïcødé ✓",
      "x".repeat(70_000), // long string
      null,
      undefined,
      new Date(1_700_000_000_000),
      [1, "two", null, [true]],
      amfObject({ app: "live", tcUrl: "rtmp://h/live", nested: amfObject({ a: 1, b: amfObject({ c: "deep" }) }) }),
      amfObject({ width: 320, height: 240, stereo: true }, "ecma-array"),
      amfObject({}),
    ];
    const bytes = encodeAmf0(values);
    expect(decodeAmf0(bytes)).toEqual(values);
    // A long string really is written with the long-string marker.
    expect(encodeAmf0(["x".repeat(70_000)])[0]).toBe(AMF0.longString);
  });

  test("a connect command object with the fields ffmpeg 5.1 sends", () => {
    const bytes = encodeAmf0([
      "connect",
      1,
      amfObject({ app: "live", type: "nonprivate", flashVer: "FMLE/3.0 (compatible; Lavf59.27.100)", tcUrl: "rtmp://127.0.0.1:1935/live" }),
    ]);
    const [name, txn, obj] = decodeAmf0(bytes);
    expect([name, txn, amfGet(obj!, "app"), amfGet(obj!, "tcUrl")]).toEqual(["connect", 1, "live", "rtmp://127.0.0.1:1935/live"]);
  });

  test("keys such as __proto__ and constructor are plain data", () => {
    const obj = amfObject({});
    obj.props.set("__proto__", "x");
    obj.props.set("constructor", 1);
    const [back] = decodeAmf0(encodeAmf0([obj]));
    expect(amfGet(back!, "__proto__")).toBe("x");
    expect(amfGet(back!, "constructor")).toBe(1);
    expect(amfGet(back!, "toString")).toBeUndefined();
  });

  test("tolerated encoder quirks: ECMA array without an end marker, wrong count, typed object, reference, XML", () => {
    const ecma = Uint8Array.from([AMF0.ecmaArray, 0, 0, 0, 9, 0, 1, 0x61, AMF0.boolean, 1]);
    expect(decodeAmf0(ecma)).toEqual([amfObject({ a: true }, "ecma-array")]);
    const typed = Uint8Array.from([AMF0.typedObject, 0, 1, 0x54, 0, 1, 0x62, AMF0.null, 0, 0, AMF0.objectEnd]);
    expect(decodeAmf0(typed)).toEqual([amfObject({ b: null })]);
    const ref = Uint8Array.from([AMF0.object, 0, 0, AMF0.objectEnd, AMF0.reference, 0, 0]);
    const [o, r] = decodeAmf0(ref);
    expect(r).toBe(o);
    expect(decodeAmf0(Uint8Array.from([AMF0.xmlDocument, 0, 0, 0, 2, 0x3c, 0x3e]))).toEqual(["<>"]);
  });

  test("hostile input: truncation, lying counts, deep nesting, AMF3 switch, unknown markers", () => {
    expect(reason(() => decodeAmf0(Uint8Array.from([AMF0.number, 0, 0])))).toBe("malformed");
    expect(reason(() => decodeAmf0(Uint8Array.from([AMF0.string, 0, 10, 0x61])))).toBe("malformed");
    expect(reason(() => decodeAmf0(Uint8Array.from([AMF0.strictArray, 0xff, 0xff, 0xff, 0xff, AMF0.null])))).toBe("malformed");
    expect(reason(() => decodeAmf0(Uint8Array.from([AMF0.reference, 0, 3])))).toBe("malformed");
    expect(reason(() => decodeAmf0(Uint8Array.from([AMF0.avmplusObject, 0x01])))).toBe("malformed");
    expect(reason(() => decodeAmf0(Uint8Array.from([AMF0.movieclip])))).toBe("malformed");
    expect(reason(() => decodeAmf0(Uint8Array.from([AMF0.object, 0, 1, 0x61])))).toBe("malformed");
    const deep = new Uint8Array(100).fill(AMF0.strictArray);
    const nested = Uint8Array.from(Array.from({ length: 40 }, () => [AMF0.strictArray, 0, 0, 0, 1]).flat());
    expect(reason(() => decodeAmf0(nested))).toBe("too-large");
    expect(reason(() => decodeAmf0(deep))).not.toBe("no error");
    const many = encodeAmf0([Array.from({ length: 100 }, () => null)]);
    expect(reason(() => decodeAmf0(many, 0, { maxDepth: 16, maxValues: 50 }))).toBe("too-large");
  });

  test("fuzz: mutated and random bytes only ever raise ParseError", () => {
    const rnd = prng(42);
    const base = encodeAmf0([
      "@setDataFrame",
      "onMetaData",
      amfObject({ width: 1280, height: 720, videocodecid: 7, encoder: "Lavf", list: [1, 2, amfObject({ x: 1 })] }, "ecma-array"),
    ]);
    let errors = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = i % 2 === 0 ? base.slice() : Uint8Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256));
      if (i % 2 === 0)
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      const cut = i % 3 === 0 ? bytes.subarray(0, Math.floor(rnd() * bytes.length)) : bytes;
      try {
        decodeAmf0(cut);
      } catch (e) {
        expect(e).toBeInstanceOf(ParseError);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(1000);
  });
});
