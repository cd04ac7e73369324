import { describe, expect, test } from "bun:test";
import { aacChannels, readAudioSpecificConfig } from "../../../src/container/codec/aac.ts";
import { adtsAudioSpecificConfig, readAdtsHeader } from "../../../src/container/codec/adts.ts";

/** An ADTS header built field by field (ISO/IEC 14496-3 §1.A.2.2.1). */
function adts(profile: number, freqIndex: number, channels: number, frameLength: number, crc = false, blocks = 0): Uint8Array {
  return Uint8Array.of(
    0xff,
    0xf0 | (crc ? 0 : 1),
    (profile << 6) | (freqIndex << 2) | (channels >> 2),
    ((channels & 3) << 6) | (frameLength >> 11),
    (frameLength >> 3) & 0xff,
    ((frameLength & 7) << 5) | 0x1f,
    0xfc | blocks,
  );
}

describe("ADTS headers", () => {
  test("fields, header length with and without CRC, raw blocks", () => {
    expect(readAdtsHeader(adts(1, 3, 2, 371), 0)).toEqual({
      objectType: 2,
      samplingIndex: 3,
      sampleRate: 48000,
      channelConfig: 2,
      headerLength: 7,
      frameLength: 371,
      rawBlocks: 1,
    });
    expect(readAdtsHeader(adts(1, 4, 1, 8191, true, 3), 0)).toMatchObject({
      sampleRate: 44100,
      channelConfig: 1,
      headerLength: 9,
      frameLength: 8191,
      rawBlocks: 4,
    });
    expect(readAdtsHeader(adts(1, 11, 7, 100), 0)).toMatchObject({ sampleRate: 8000, channelConfig: 7 });
  });

  test("rejects: no syncword, layer not 0, reserved sampling index, frame shorter than its header, too few bytes", () => {
    const good = adts(1, 3, 2, 371);
    const broken = (i: number, v: number) => {
      const b = good.slice();
      b[i] = v;
      return b;
    };
    expect(readAdtsHeader(broken(0, 0xfe), 0)).toBeUndefined();
    expect(readAdtsHeader(broken(1, 0xf3), 0)).toBeUndefined(); // layer 01
    expect(readAdtsHeader(adts(1, 13, 2, 371), 0)).toBeUndefined();
    expect(readAdtsHeader(adts(1, 3, 2, 6), 0)).toBeUndefined();
    expect(readAdtsHeader(adts(1, 3, 2, 8, true), 0)).toBeUndefined();
    expect(readAdtsHeader(good.subarray(0, 6), 0)).toBeUndefined();
    expect(readAdtsHeader(good, 1)).toBeUndefined();
  });

  test("AudioSpecificConfig: the 2 bytes ISO/IEC 14496-3 §1.6.2.1 gives (AAC LC 48 kHz mono = 11 88, stereo = 11 90, 44.1 kHz mono = 12 08)", () => {
    const asc = (p: number, f: number, c: number) => [...adtsAudioSpecificConfig(readAdtsHeader(adts(p, f, c, 100), 0)!)];
    expect(asc(1, 3, 1)).toEqual([0x11, 0x88]);
    expect(asc(1, 3, 2)).toEqual([0x11, 0x90]);
    expect(asc(1, 4, 1)).toEqual([0x12, 0x08]);
    expect(asc(0, 0, 6)).toEqual([0x08, 0x30]); // AAC Main, 96 kHz, 5.1
  });

  test("the AudioSpecificConfig it implies reads back as the header's fields", () => {
    for (const [profile, index, channels] of [
      [1, 3, 2],
      [0, 0, 6],
      [1, 11, 7],
      [3, 12, 1],
    ] as const) {
      const h = readAdtsHeader(adts(profile, index, channels, 100), 0)!;
      expect(readAudioSpecificConfig(adtsAudioSpecificConfig(h))).toEqual({
        objectType: h.objectType,
        sampleRate: h.sampleRate,
        channelConfiguration: channels,
        channels: aacChannels(channels),
      });
    }
  });
});
