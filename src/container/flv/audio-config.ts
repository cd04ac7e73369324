import { ParseError } from "../errors.ts";

/** samplingFrequencyIndex → Hz, ISO/IEC 14496-3 §1.6.3.3 (indices 13, 14 reserved). */
const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** channelConfiguration → channel count, ISO/IEC 14496-3 §1.6.3.4 (0: stated in a program_config_element). */
const AAC_CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8];

/**
 * Sample rate and channel count from an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): audioObjectType
 * (5 bits, 31 escapes to 6 more), samplingFrequencyIndex (4 bits, 15 = explicit 24-bit rate),
 * channelConfiguration (4 bits). `channels` is 0 when the config defers to a program config element.
 * Throws `ParseError("malformed")` when too short or the rate index is reserved.
 */
export function readAudioSpecificConfig(asc: Uint8Array): { objectType: number; sampleRate: number; channels: number } {
  let bitPos = 0;
  const bits = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bitPos++) {
      const byte = asc[bitPos >> 3];
      if (byte === undefined) throw new ParseError("malformed", `AudioSpecificConfig of ${asc.byteLength} bytes is truncated`);
      v = v * 2 + ((byte >> (7 - (bitPos & 7))) & 1);
    }
    return v;
  };
  let objectType = bits(5);
  if (objectType === 31) objectType = 32 + bits(6);
  const index = bits(4);
  const sampleRate = index === 15 ? bits(24) : AAC_SAMPLE_RATES[index];
  if (!sampleRate) throw new ParseError("malformed", `AudioSpecificConfig sampling frequency index ${index}`);
  const channels = AAC_CHANNELS[bits(4)] ?? 0;
  return { objectType, sampleRate, channels };
}

const OPUS_HEAD_MAGIC = "OpusHead";

/**
 * Channel count of an `OpusHead` (RFC 7845 §5.1: magic, version, channel count, pre-skip, input rate,
 * gain, mapping family; little-endian). Throws `ParseError("malformed")` when it is not one.
 */
export function readOpusHead(head: Uint8Array): { channels: number; inputSampleRate: number } {
  if (head.byteLength < 19 || String.fromCharCode(...head.subarray(0, 8)) !== OPUS_HEAD_MAGIC) {
    throw new ParseError("malformed", "Opus sequence start is not an OpusHead (RFC 7845 §5.1)");
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const channels = head[9]!;
  if (channels === 0) throw new ParseError("malformed", "OpusHead with 0 channels");
  return { channels, inputSampleRate: view.getUint32(12, true) };
}

/**
 * A minimal `OpusHead` (RFC 7845 §5.1) for an Opus stream whose sequence start was empty: version 1,
 * `channels` (E-RTMP v2: "default to mono/stereo mode"), pre-skip 0, 48 kHz input, gain 0, mapping family 0.
 */
export function buildOpusHead(channels: 1 | 2): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer);
  for (let i = 0; i < 8; i++) head[i] = OPUS_HEAD_MAGIC.charCodeAt(i);
  head[8] = 1;
  head[9] = channels;
  view.setUint16(10, 0, true);
  view.setUint32(12, 48000, true);
  view.setInt16(16, 0, true);
  head[18] = 0;
  return head;
}
