import { describe, expect, test } from "bun:test";
import { readOpusHead } from "../../../src/container/codec/opus.ts";
import { opusChannels, opusHeadFor, readOpusControlHeader } from "../../../src/container/codec/opus-ts.ts";

describe("Opus in MPEG-TS", () => {
  test("control header: prefix 0x7FE0, au_size as a 0xFF run, optional trims and extension", () => {
    expect(readOpusControlHeader(Uint8Array.of(0x7f, 0xe0, 0x20), 0)).toEqual({ headerLength: 3, auSize: 0x20 });
    expect(readOpusControlHeader(Uint8Array.of(0x7f, 0xe0, 0xff, 0xff, 0x02), 0)).toEqual({ headerLength: 5, auSize: 512 });
    // ffmpeg's first access unit: start_trim 312.
    expect(readOpusControlHeader(Uint8Array.of(0x7f, 0xf0, 0xe0, 0x01, 0x38), 0)).toEqual({
      headerLength: 5,
      auSize: 0xe0,
      startTrim: 312,
    });
    expect(readOpusControlHeader(Uint8Array.of(0x7f, 0xfc, 0x10, 0x00, 0x10, 0x00, 0x20, 0x02, 0xaa, 0xbb), 0)).toEqual({
      headerLength: 10,
      auSize: 16,
      startTrim: 16,
      endTrim: 32,
    });
  });

  test("control header: wrong prefix or cut short is undefined", () => {
    expect(readOpusControlHeader(Uint8Array.of(0x7f, 0xd0, 0x20), 0)).toBeUndefined();
    expect(readOpusControlHeader(Uint8Array.of(0x7e, 0xe0, 0x20), 0)).toBeUndefined();
    expect(readOpusControlHeader(Uint8Array.of(0x7f, 0xe0, 0xff), 0)).toBeUndefined();
    expect(readOpusControlHeader(Uint8Array.of(0x7f, 0xf0, 0x10, 0x01), 0)).toBeUndefined();
    expect(readOpusControlHeader(Uint8Array.of(0x7f, 0xe4, 0x10, 0x05, 1), 0)).toBeUndefined();
  });

  test("OpusHead (RFC 7845 §5.1): family 0 for mono/stereo, 1 with the Vorbis order for 3..8, 255 for dual mono", () => {
    expect([...opusHeadFor(2, 312)!]).toEqual([...new TextEncoder().encode("OpusHead"), 1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
    expect([...opusHeadFor(1, 0)!].slice(8)).toEqual([1, 1, 0, 0, 0x80, 0xbb, 0, 0, 0, 0, 0]);
    expect([...opusHeadFor(6, 0)!].slice(18)).toEqual([1, 4, 2, 0, 4, 1, 2, 3, 5]);
    expect([...opusHeadFor(8, 0)!].slice(18)).toEqual([1, 5, 3, 0, 6, 1, 2, 3, 4, 5, 7]);
    expect([...opusHeadFor(0, 0)!].slice(9, 10)).toEqual([2]);
    expect([...opusHeadFor(0, 0)!].slice(18)).toEqual([255, 1, 1, 0, 1]);
    expect(opusHeadFor(0x81, 0)).toBeUndefined();
    expect(readOpusHead(opusHeadFor(6, 104)!)).toMatchObject({ channels: 6, preSkip: 104, mappingFamily: 1 });
    expect([0, 1, 2, 3, 8, 9, 0x80].map(opusChannels)).toEqual([2, 1, 2, 3, 8, undefined, undefined]);
  });
});
