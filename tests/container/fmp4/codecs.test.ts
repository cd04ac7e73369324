import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/container/errors.ts";
import { fourcc } from "../../../src/container/fmp4/box-types.ts";
import { av1CodecString, avcCodecString, hevcCodecString, readSampleEntry, vpCodecString } from "../../../src/container/fmp4/codecs.ts";
import { mp4aChannels, mp4aCodecString } from "../../../src/container/fmp4/esds.ts";
import { parseMoov } from "../../../src/container/fmp4/moov.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { ascii, box, bytes, fullBox, type Part, scanTopLevel, u16, u32 } from "./build.ts";

/** Packs big-endian bit fields: [value, width] pairs. */
function bits(...fields: Array<[number, number]>): number[] {
  const out: number[] = [];
  let acc = 0;
  let n = 0;
  for (const [value, width] of fields) {
    for (let i = width - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++n % 8 === 0) {
        out.push(acc);
        acc = 0;
      }
    }
  }
  if (n % 8) out.push(acc << (8 - (n % 8)));
  return out;
}

/** An MPEG-4 descriptor with a 4-byte expandable size (ISO/IEC 14496-1 §8.3.3). */
function descriptor(tag: number, ...parts: Part[]): Uint8Array {
  const body = bytes(...parts);
  const n = body.byteLength;
  return bytes([tag, 0x80 | ((n >> 21) & 0x7f), 0x80 | ((n >> 14) & 0x7f), 0x80 | ((n >> 7) & 0x7f), n & 0x7f], body);
}

/** esds payload (FullBox header + ES_Descriptor) around a DecoderConfigDescriptor. */
function esds(oti: number, asc?: number[], esFlags = 0, esExtra: number[] = []): Uint8Array {
  const dsi = asc ? descriptor(0x05, asc) : new Uint8Array(0);
  const dcd = descriptor(0x04, [oti, 0x15, 0, 0, 0], u32(96000), u32(96000), dsi);
  return bytes([0, 0, 0, 0], descriptor(0x03, u16(1), [esFlags], esExtra, dcd, descriptor(0x06, [2])));
}

/** hvcC payload: the 13 bytes the codec string needs plus the usual tail. */
function hvcC(space: number, tier: number, profile: number, compat: number, constraints: number[], level: number): Uint8Array {
  return bytes(
    [1, (space << 6) | (tier << 5) | profile],
    u32(compat),
    constraints,
    [level],
    [0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0],
  );
}

describe("codec strings from configuration records", () => {
  test("avcC bytes 1-3 in uppercase hex, keeping the entry name", () => {
    expect(avcCodecString("avc1", new Uint8Array([1, 0x64, 0x00, 0x1f, 0xff]))).toBe("avc1.64001F");
    expect(avcCodecString("avc3", new Uint8Array([1, 0x42, 0xc0, 0x0d]))).toBe("avc3.42C00D");
    expect(avcCodecString("avc1", new Uint8Array([1, 0x42]))).toBe("");
  });

  test("hvcC: profile space letter, reversed compatibility flags, tier, level, trailing zero constraint bytes dropped", () => {
    expect(hevcCodecString("hvc1", hvcC(0, 0, 1, 0x6000_0000, [0x90, 0, 0, 0, 0, 0], 60))).toBe("hvc1.1.6.L60.90");
    // Main 10: compatibility flag 2 only → reversed 0x4.
    expect(hevcCodecString("hev1", hvcC(0, 0, 2, 0x2000_0000, [0xb0, 0, 0, 0, 0, 0], 93))).toBe("hev1.2.4.L93.B0");
    expect(hevcCodecString("hev1", hvcC(1, 1, 4, 0x0000_0001, [0xb0, 0, 0, 0, 0, 0x01], 120))).toBe(
      "hev1.A4.80000000.H120.B0.00.00.00.00.01",
    );
    expect(hevcCodecString("hvc1", hvcC(3, 0, 1, 0, [0, 0, 0, 0, 0, 0], 30))).toBe("hvc1.C1.0.L30");
    expect(hevcCodecString("hvc1", new Uint8Array(12))).toBe("");
  });

  test("av1C: profile, two-digit level, tier, two-digit bit depth", () => {
    expect(av1CodecString(new Uint8Array([0x81, 0x00, 0x0c, 0x00]))).toBe("av01.0.00M.08");
    expect(av1CodecString(new Uint8Array([0x81, 0x08, 0x40, 0x00]))).toBe("av01.0.08M.10");
    expect(av1CodecString(new Uint8Array([0x81, (2 << 5) | 13, 0xe0, 0x00]))).toBe("av01.2.13H.12");
  });

  test("an empty av1C (libaom) or one without its marker bit gives no codec string", () => {
    expect(av1CodecString(new Uint8Array(0))).toBe("");
    expect(av1CodecString(new Uint8Array([0x01, 0x00, 0x0c, 0x00]))).toBe("");
  });

  test("vpcC: two-digit profile, level and bit depth", () => {
    expect(vpCodecString("vp09", new Uint8Array([1, 0, 0, 0, 0, 20, 0x82, 2, 2, 2, 0, 0]))).toBe("vp09.00.20.08");
    expect(vpCodecString("vp09", new Uint8Array([1, 0, 0, 0, 2, 31, 0xa0, 9, 16, 9, 0, 0]))).toBe("vp09.02.31.10");
    expect(vpCodecString("vp08", new Uint8Array([1, 0, 0, 0, 0, 10, 0x80]))).toBe("vp08.00.10.08");
    expect(vpCodecString("vp09", new Uint8Array([1, 0, 0, 0]))).toBe("");
  });

  test("esds: mp4a.40.<AOT> from the AudioSpecificConfig", () => {
    expect(mp4aCodecString(esds(0x40, bits([2, 5], [3, 4], [2, 4], [0, 3])))).toBe("mp4a.40.2");
    expect(mp4aCodecString(esds(0x40, bits([5, 5], [6, 4], [1, 4], [3, 4], [2, 5])))).toBe("mp4a.40.5");
  });

  test("esds: AOT 31 escapes to 32 + 6 more bits (USAC = 42)", () => {
    expect(mp4aCodecString(esds(0x40, bits([31, 5], [42 - 32, 6], [3, 4], [2, 4])))).toBe("mp4a.40.42");
    expect(mp4aCodecString(esds(0x40, bits([31, 5], [0, 6], [3, 4], [1, 4])))).toBe("mp4a.40.32");
  });

  test("esds: other objectTypeIndications give mp4a.XX in hex", () => {
    expect(mp4aCodecString(esds(0x6b))).toBe("mp4a.6B");
    expect(mp4aCodecString(esds(0x69))).toBe("mp4a.69");
  });

  test("esds: optional ES_Descriptor fields (dependsOn, URL, OCR) are skipped", () => {
    const url = [4, ...ascii("http")];
    expect(mp4aCodecString(esds(0x40, bits([2, 5], [3, 4], [1, 4]), 0xe0, [...u16(7), ...url, ...u16(9)]))).toBe("mp4a.40.2");
  });

  test("esds: missing DecoderSpecificInfo gives mp4a.40; no ES_Descriptor gives ''", () => {
    expect(mp4aCodecString(esds(0x40))).toBe("mp4a.40");
    expect(mp4aCodecString(new Uint8Array([0, 0, 0, 0]))).toBe("");
  });

  test("esds: a descriptor overrunning its parent is malformed", () => {
    const broken = bytes([0, 0, 0, 0, 0x03, 0x40, 0, 1, 0]);
    expect(() => mp4aCodecString(broken)).toThrow(ParseError);
  });

  test("esds: channel count from channelConfiguration, including after an explicit frequency", () => {
    expect(mp4aChannels(esds(0x40, bits([2, 5], [3, 4], [1, 4])))).toBe(1);
    expect(mp4aChannels(esds(0x40, bits([2, 5], [15, 4], [44100, 24], [7, 4])))).toBe(8);
    expect(mp4aChannels(esds(0x40, bits([2, 5], [3, 4], [0, 4])))).toBeUndefined();
    expect(mp4aChannels(esds(0x6b))).toBeUndefined();
  });
});

describe("sample entries", () => {
  const visual = (type: string, width: number, height: number, ...children: Uint8Array[]) =>
    box(type, new Uint8Array(6), u16(1), new Uint8Array(16), u16(width), u16(height), new Uint8Array(78 - 28), ...children);
  const audio = (type: string, version: number, channels: number, rate: number, extra: Part, ...children: Uint8Array[]) =>
    box(
      type,
      new Uint8Array(6),
      u16(1),
      u16(version),
      new Uint8Array(6),
      u16(channels),
      u16(16),
      u16(0),
      u16(0),
      u32(rate * 65536),
      extra,
      ...children,
    );
  const read = (entry: Uint8Array, handler: string, stsdVersion = 0) =>
    readSampleEntry(
      entry,
      { type: fourcc(String.fromCharCode(...entry.subarray(4, 8))), start: 8, end: entry.byteLength },
      handler,
      stsdVersion,
    );

  test("VisualSampleEntry: width/height and the codec from its config box after the 78 fixed bytes", () => {
    const entry = visual("avc1", 1280, 720, box("avcC", [1, 0x64, 0, 0x28, 0xff]), box("pasp", u32(1), u32(1)));
    expect(read(entry, "vide")).toEqual({ codecId: "avc1", codec: "avc1.640028", width: 1280, height: 720 });
  });

  test("AudioSampleEntry: channels and 16.16 sample rate; esds channels override the template value", () => {
    const entry = audio("mp4a", 0, 2, 44100, [], fullBox("esds", 0, 0, esds(0x40, bits([2, 5], [4, 4], [1, 4])).subarray(4)));
    expect(read(entry, "soun")).toEqual({ codecId: "mp4a", codec: "mp4a.40.2", sampleRate: 44100, channels: 1 });
  });

  test("QuickTime sound description v1 skips 16 more bytes and finds esds inside wave", () => {
    const wave = box("wave", box("frma", ascii("mp4a")), fullBox("esds", 0, 0, esds(0x40, bits([2, 5], [3, 4], [2, 4])).subarray(4)));
    const entry = audio("mp4a", 1, 2, 48000, new Uint8Array(16), wave);
    expect(read(entry, "soun")).toEqual({ codecId: "mp4a", codec: "mp4a.40.2", sampleRate: 48000, channels: 2 });
  });

  test("QuickTime sound description v2 takes rate and channels from its extension", () => {
    const v2 = new Uint8Array(36);
    const view = new DataView(v2.buffer);
    view.setUint32(0, 72);
    view.setFloat64(4, 96000);
    view.setUint32(12, 6);
    const entry = audio("Opus", 2, 3, 1, v2, box("dOps", [0, 6]));
    expect(read(entry, "soun")).toEqual({ codecId: "Opus", codec: "opus", sampleRate: 96000, channels: 6 });
  });

  test("an ISO stsd version 1 AudioSampleEntryV1 has no QuickTime extension", () => {
    const entry = audio("fLaC", 1, 2, 48000, [], box("dfLa", new Uint8Array(4)));
    expect(read(entry, "soun", 1)).toEqual({ codecId: "fLaC", codec: "flac", sampleRate: 48000, channels: 2 });
  });

  test("entries without their config box, unknown printable fourccs and unprintable ones", () => {
    expect(read(visual("avc1", 2, 2), "vide").codec).toBe("");
    expect(read(visual("encv", 2, 2, box("sinf")), "vide").codec).toBe("encv");
    expect(read(audio("ac-3", 0, 6, 48000, []), "soun").codec).toBe("ac-3");
    expect(read(box("\x00\x01ab"), "text").codec).toBe("");
    expect(read(box("wvtt"), "text")).toEqual({ codecId: "wvtt", codec: "wvtt" });
  });

  test("an entry shorter than its fixed fields is malformed", () => {
    expect(() => read(box("avc1", new Uint8Array(40)), "vide")).toThrow(ParseError);
    expect(() => read(box("mp4a", new Uint8Array(20)), "soun")).toThrow(ParseError);
  });
});

describe("parseMoov", () => {
  test("reads tracks and trex defaults of a fixture moov", () => {
    const file = fixture("h264-every-frame.mp4");
    const moov = scanTopLevel(file).find((b) => b.type === "moov")!;
    const info = parseMoov(file, moov.start + 8, moov.start + moov.size);
    expect(info.tracks.map((t) => [t.id, t.kind, t.codec, t.timescale])).toEqual([
      [1, "video", "avc1.64000D", 12800],
      [2, "audio", "mp4a.40.2", 48000],
    ]);
    expect([...info.trex.keys()]).toEqual([1, 2]);
  });

  test("a trak without tkhd is malformed", () => {
    const moov = box("trak", box("mdia")).subarray(0);
    expect(() => parseMoov(moov)).toThrow(ParseError);
  });

  test("an empty moov has no tracks", () => {
    expect(parseMoov(new Uint8Array(0))).toEqual({ tracks: [], trex: new Map() });
  });
});
