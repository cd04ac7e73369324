import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/container/errors.ts";
import { fourcc, fourccName, MDAT, MOOF } from "../../../src/container/fmp4/box-types.ts";
import { ChildBoxes, childBoxes, printable, readBoxHeader } from "../../../src/container/fmp4/boxes.ts";
import { Reader } from "../../../src/container/reader.ts";
import { ascii, box, bytes, u32 } from "./build.ts";

const reason = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof ParseError ? e.reason : "other";
  }
  return "none";
};

describe("readBoxHeader", () => {
  test("reads a 32-bit size and type", () => {
    expect(readBoxHeader(bytes(u32(1234), ascii("moof")), 1 << 20)).toEqual({ type: MOOF, size: 1234, headerSize: 8 });
  });

  test("size 1 reads a 64-bit largesize, waiting for all 16 bytes", () => {
    const head = bytes(u32(1), ascii("mdat"), u32(1), u32(16));
    expect(readBoxHeader(head.subarray(0, 15), 2 ** 40)).toBeUndefined();
    expect(readBoxHeader(head, 2 ** 40)).toEqual({ type: MDAT, size: 2 ** 32 + 16, headerSize: 16 });
  });

  test("waits while fewer than 8 bytes are known", () => {
    expect(readBoxHeader(bytes(u32(0)), 100)).toBeUndefined();
  });

  test("size 0 is unsupported-size, a size below the header malformed, over the cap too-large", () => {
    expect(reason(() => readBoxHeader(bytes(u32(0), ascii("mdat")), 100))).toBe("unsupported-size");
    expect(reason(() => readBoxHeader(bytes(u32(7), ascii("mdat")), 100))).toBe("malformed");
    expect(reason(() => readBoxHeader(bytes(u32(1), ascii("mdat"), u32(0), u32(12)), 100))).toBe("malformed");
    expect(reason(() => readBoxHeader(bytes(u32(101), ascii("mdat")), 100))).toBe("too-large");
    expect(readBoxHeader(bytes(u32(100), ascii("mdat")), 100)?.size).toBe(100);
  });
});

describe("child box iteration", () => {
  test("lists children with payload ranges, including largesize children", () => {
    const large = bytes(u32(1), ascii("tfdt"), u32(0), u32(20), [9, 9, 9, 9]);
    const payload = bytes(box("mfhd", [1, 2]), large, box("traf"));
    const kids = childBoxes(new Reader(payload), 0, payload.byteLength);
    expect(kids.map((k) => [fourccName(k.type), k.start, k.end])).toEqual([
      ["mfhd", 8, 10],
      ["tfdt", 26, 30],
      ["traf", 38, 38],
    ]);
  });

  test("size 0, size below the header, overrun and stray tail bytes are malformed", () => {
    for (const payload of [
      bytes(u32(0), ascii("traf")),
      bytes(u32(4), ascii("traf")),
      bytes(u32(9), ascii("traf")),
      bytes(box("traf"), [0, 0, 0]),
      bytes(u32(1), ascii("traf"), u32(0)),
    ]) {
      expect(reason(() => childBoxes(new Reader(payload), 0, payload.byteLength))).toBe("malformed");
    }
  });

  test("the cursor respects its parent's end even when more bytes follow", () => {
    const payload = bytes(box("a123", [1]), box("b123"));
    const it = new ChildBoxes(new Reader(payload), 0, 9);
    expect(it.next()).toBe(true);
    expect(fourccName(it.type)).toBe("a123");
    expect(it.next()).toBe(false);
  });
});

test("fourcc round-trips and unprintable types are shown in hex", () => {
  expect(fourccName(fourcc("moov"))).toBe("moov");
  expect(printable(fourcc("avc1"))).toBe("avc1");
  expect(printable(0x00010203)).toBe("00010203");
});
