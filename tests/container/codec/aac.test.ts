import { describe, expect, test } from "bun:test";
import { AAC_SAMPLE_RATES, aacChannels, readAudioSpecificConfig } from "../../../src/container/codec/aac.ts";

const asc = (...bytes: number[]) => readAudioSpecificConfig(Uint8Array.from(bytes));

describe("AAC (ISO/IEC 14496-3)", () => {
  test("channel counts and the rate table", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 15].map(aacChannels)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 0, 0]);
    expect(AAC_SAMPLE_RATES.length).toBe(13);
    expect(AAC_SAMPLE_RATES[3]).toBe(48000);
  });

  test("AudioSpecificConfig: object type, rate and channels (AAC LC 48 kHz stereo = 11 90, HE-AAC 24 kHz = 2B 10)", () => {
    expect(asc(0x11, 0x90)).toEqual({ objectType: 2, sampleRate: 48000, channelConfiguration: 2, channels: 2 });
    expect(asc(0x2b, 0x10)).toEqual({ objectType: 5, sampleRate: 24000, channelConfiguration: 2, channels: 2 });
  });

  test("AudioSpecificConfig: object type 31 escapes to 32 + 6 bits (USAC = 42)", () => {
    expect(asc(0xf9, 0x46, 0x40)).toEqual({ objectType: 42, sampleRate: 48000, channelConfiguration: 2, channels: 2 });
  });

  test("AudioSpecificConfig: index 15 gives an explicit 24-bit frequency; channelConfiguration 7 is 8 channels", () => {
    expect(asc(0x17, 0x80, 0x56, 0x22, 0x38)).toEqual({ objectType: 2, sampleRate: 44100, channelConfiguration: 7, channels: 8 });
  });

  test("AudioSpecificConfig: a reserved index or an explicit 0 Hz is sampleRate 0; configuration 0 or reserved is 0 channels", () => {
    expect(asc(0x16, 0x88)).toMatchObject({ sampleRate: 0, channels: 1 });
    expect(asc(0x17, 0x80, 0x00, 0x00, 0x10)).toMatchObject({ sampleRate: 0, channels: 2 });
    expect(asc(0x11, 0x80)).toMatchObject({ sampleRate: 48000, channelConfiguration: 0, channels: 0 });
    expect(asc(0x11, 0xc8)).toMatchObject({ channelConfiguration: 9, channels: 0 });
  });

  test("AudioSpecificConfig: undefined when it ends before channelConfiguration", () => {
    expect(asc()).toBeUndefined();
    expect(asc(0x11)).toBeUndefined();
    expect(asc(0xf9, 0x46)).toBeUndefined(); // escaped object type: 19 bits
    expect(asc(0x17, 0x80, 0x56, 0x22)).toBeUndefined(); // explicit frequency: 37 bits
  });
});
