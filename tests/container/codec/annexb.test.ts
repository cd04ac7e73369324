import { describe, expect, test } from "bun:test";
import { lengthPrefixed, removeEmulationPrevention, splitAnnexB } from "../../../src/container/codec/annexb.ts";

const u8 = (...b: number[]) => Uint8Array.from(b);
const list = (units: Uint8Array[]) => units.map((u) => [...u]);

describe("Annex B", () => {
  test("splits at 3- and 4-byte start codes, dropping trailing zero bytes and empty units", () => {
    const s = u8(0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 0, 1, 0x68, 3, 0, 0, 1, 0, 0, 1, 0x65, 4, 5, 0, 0);
    expect(list(splitAnnexB(s))).toEqual([
      [0x09, 0xf0],
      [0x67, 1, 2],
      [0x68, 3],
      [0x65, 4, 5],
    ]);
  });

  test("bytes before the first start code are not a unit; no start code, no units", () => {
    expect(list(splitAnnexB(u8(7, 7, 0, 0, 1, 0x41, 9)))).toEqual([[0x41, 9]]);
    expect(splitAnnexB(u8(1, 2, 3, 4, 5))).toEqual([]);
    expect(splitAnnexB(u8())).toEqual([]);
    expect(list(splitAnnexB(u8(0, 0, 1)))).toEqual([]);
  });

  test("a 0x01 inside a unit that is not behind two zeros is data", () => {
    expect(list(splitAnnexB(u8(0, 0, 1, 0x41, 0, 1, 1, 0, 2, 1)))).toEqual([[0x41, 0, 1, 1, 0, 2, 1]]);
  });

  test("emulation prevention: every 00 00 03 loses its 03, nothing else changes", () => {
    expect([...removeEmulationPrevention(u8(0x67, 0, 0, 3, 1, 0, 0, 3, 0, 0, 0, 3))]).toEqual([0x67, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect([...removeEmulationPrevention(u8(0, 0, 3, 0, 0, 3))]).toEqual([0, 0, 0, 0]);
    const plain = u8(0x67, 0, 3, 0, 1, 3);
    expect(removeEmulationPrevention(plain)).toBe(plain);
  });

  test("length-prefixed units: 4-byte big-endian sizes", () => {
    expect([...lengthPrefixed([u8(1, 2, 3), u8(), u8(9)])]).toEqual([0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 1, 9]);
  });
});
