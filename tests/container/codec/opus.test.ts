import { describe, expect, test } from "bun:test";
import { type OpusHead, opusPacketSamples, readOpusHead, writeOpusHead } from "../../../src/container/codec/opus.ts";
import { ParseError } from "../../../src/container/errors.ts";

const stereo: OpusHead = { channels: 2, preSkip: 312, inputSampleRate: 44100, outputGain: -256, mappingFamily: 0, mappingTable: undefined };

describe("OpusHead (RFC 7845 §5.1)", () => {
  test("written little-endian, version 1, and read back", () => {
    const bytes = writeOpusHead(stereo);
    expect([...bytes]).toEqual([...new TextEncoder().encode("OpusHead"), 1, 2, 0x38, 0x01, 0x44, 0xac, 0, 0, 0x00, 0xff, 0]);
    expect(readOpusHead(bytes)).toEqual(stereo);
  });

  test("mapping family 1: the table (streams, coupled, one byte per channel) follows", () => {
    const surround: OpusHead = {
      channels: 6,
      preSkip: 0,
      inputSampleRate: 48000,
      outputGain: 0,
      mappingFamily: 1,
      mappingTable: Uint8Array.of(4, 2, 0, 4, 1, 2, 3, 5),
    };
    const bytes = writeOpusHead(surround);
    expect(bytes.byteLength).toBe(19 + 8);
    expect(readOpusHead(bytes)).toEqual(surround);
  });

  test("refused: short, no magic, major version 1, zero channels, family 0 above stereo, a table that does not fit", () => {
    const good = writeOpusHead(stereo);
    const with_ = (i: number, v: number) => {
      const b = good.slice();
      b[i] = v;
      return b;
    };
    const bad = [good.subarray(0, 18), with_(0, 0x6f), with_(8, 0x10), with_(9, 0), with_(9, 3), with_(18, 1)];
    for (const b of bad) expect(() => readOpusHead(b)).toThrow(ParseError);
    expect(readOpusHead(with_(8, 0x0f)).channels).toBe(2); // minor versions are compatible
  });
});

describe("Opus packet duration from the TOC (RFC 6716 §3.1)", () => {
  const toc = (config: number, code: number) => (config << 3) | code;
  const cases: Array<[string, number[], number]> = [
    ["CELT FB 20 ms, one frame", [toc(31, 0)], 960],
    ["CELT FB 2.5 ms", [toc(28, 0)], 120],
    ["CELT 2.5 ms (config 16)", [toc(16, 0)], 120],
    ["SILK NB 60 ms", [toc(3, 0)], 2880],
    ["SILK 60 ms, two frames (code 1)", [toc(3, 1)], 2 * 2880],
    ["hybrid FB 10 ms, two frames (code 1)", [toc(14, 1)], 960],
    ["hybrid 20 ms, two frames (code 2)", [toc(13, 2)], 2 * 960],
    ["CELT 20 ms, code 3 with 3 frames", [toc(31, 3), 3], 2880],
    ["code 3 claiming 63 frames of 20 ms: capped at 120 ms (§3.2.5)", [toc(31, 3), 63], 5760],
    ["code 3 without its frame count byte: 0", [toc(1, 3)], 0],
    ["code 3 with M = 0: 0", [toc(31, 3), 0x80], 0],
    ["an empty packet: 0", [], 0],
  ];
  for (const [name, bytes, samples] of cases) test(name, () => expect(opusPacketSamples(Uint8Array.from(bytes))).toBe(samples));
});
