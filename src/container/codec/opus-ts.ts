import { OPUS_SAMPLE_RATE, writeOpusHead } from "./opus.ts";

/**
 * Opus carried in MPEG-TS, per the Opus "Transport Multiplexing Standard" draft for ETSI
 * (opus-codec.org, ETSI TS draft v0.1.3): stream_type 0x06 with a registration descriptor 'Opus',
 * an extension descriptor (tag 0x7F) whose descriptor_tag_extension 0x80 carries the
 * channel_config_code, and PES payloads made of opus_access_units, each an opus_control_header
 * followed by one Opus packet.
 */

/** format_identifier of the registration descriptor (ISO/IEC 13818-1 §2.6.8) that marks Opus. */
export const OPUS_REGISTRATION = 0x4f707573; // 'Opus'
/** descriptor_tag_extension of the Opus audio descriptor inside an extension descriptor (tag 0x7F). */
export const OPUS_DESCRIPTOR_EXTENSION = 0x80;

/** Channel count, mapping family, streams, coupled streams and mapping for channel_config_code 0..8. */
interface OpusLayout {
  channels: number;
  family: number;
  streams: number;
  coupled: number;
  mapping: number[];
}

/**
 * channel_config_code → layout. 0 is dual mono (two uncoupled channels in one stereo stream,
 * mapping family 255); 1 and 2 are mono / stereo (family 0); 3..8 use mapping family 1 with the
 * Vorbis channel order of RFC 7845 §5.1.1.2 and the stream/coupled counts libopus' surround
 * encoder uses for them.
 */
function layout(code: number): OpusLayout | undefined {
  switch (code) {
    case 0:
      return { channels: 2, family: 255, streams: 1, coupled: 1, mapping: [0, 1] };
    case 1:
      return { channels: 1, family: 0, streams: 1, coupled: 0, mapping: [0] };
    case 2:
      return { channels: 2, family: 0, streams: 1, coupled: 1, mapping: [0, 1] };
    case 3:
      return { channels: 3, family: 1, streams: 2, coupled: 1, mapping: [0, 2, 1] };
    case 4:
      return { channels: 4, family: 1, streams: 2, coupled: 2, mapping: [0, 1, 2, 3] };
    case 5:
      return { channels: 5, family: 1, streams: 3, coupled: 2, mapping: [0, 4, 1, 2, 3] };
    case 6:
      return { channels: 6, family: 1, streams: 4, coupled: 2, mapping: [0, 4, 1, 2, 3, 5] };
    case 7:
      return { channels: 7, family: 1, streams: 4, coupled: 3, mapping: [0, 4, 1, 2, 3, 5, 6] };
    case 8:
      return { channels: 8, family: 1, streams: 5, coupled: 3, mapping: [0, 6, 1, 2, 3, 4, 5, 7] };
    default:
      return undefined;
  }
}

/** Channels of a channel_config_code this code supports (0..8), else undefined (0x80+: explicit mappings, not supported). */
export function opusChannels(channelConfigCode: number): number | undefined {
  return layout(channelConfigCode)?.channels;
}

/**
 * The `OpusHead` identification header (RFC 7845 §5.1) for a channel_config_code 0..8 and a
 * pre-skip in 48 kHz samples; undefined for other codes.
 */
export function opusHeadFor(channelConfigCode: number, preSkip: number): Uint8Array | undefined {
  const l = layout(channelConfigCode);
  if (!l) return undefined;
  return writeOpusHead({
    channels: l.channels,
    preSkip,
    inputSampleRate: OPUS_SAMPLE_RATE, // informative
    outputGain: 0,
    mappingFamily: l.family,
    mappingTable: l.family === 0 ? undefined : Uint8Array.of(l.streams, l.coupled, ...l.mapping),
  });
}

/** One opus_control_header (draft §: "opus_access_unit"). */
export interface OpusControlHeader {
  /** Bytes of the header itself. */
  headerLength: number;
  /** au_size: bytes of the Opus packet that follows. */
  auSize: number;
  /** start_trim / end_trim in 48 kHz samples when their flags are set. */
  startTrim?: number;
  endTrim?: number;
}

/**
 * Reads the opus_control_header at `bytes[at..]`: an 11-bit prefix 0x3FF, start_trim_flag,
 * end_trim_flag, control_extension_flag, 2 reserved bits (so the first 16 bits are 0x7FE0 | flags),
 * au_size as a run of 0xFF bytes plus a last byte, then start_trim (16 bits), end_trim (16 bits)
 * and control extension (length byte + bytes) when flagged. Undefined when the prefix is not there
 * or the header runs past `bytes`.
 */
export function readOpusControlHeader(bytes: Uint8Array, at: number): OpusControlHeader | undefined {
  const n = bytes.byteLength;
  if (at + 2 > n || bytes[at] !== 0x7f || (bytes[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const flags = bytes[at + 1]!;
  let p = at + 2;
  let auSize = 0;
  for (;;) {
    if (p >= n) return undefined;
    const b = bytes[p++]!;
    auSize += b;
    if (b !== 0xff) break;
  }
  const result: OpusControlHeader = { headerLength: 0, auSize };
  if (flags & 0x10) {
    if (p + 2 > n) return undefined;
    result.startTrim = ((bytes[p]! << 8) | bytes[p + 1]!) & 0x1fff; // 3 reserved bits + 13-bit value
    p += 2;
  }
  if (flags & 0x08) {
    if (p + 2 > n) return undefined;
    result.endTrim = ((bytes[p]! << 8) | bytes[p + 1]!) & 0x1fff;
    p += 2;
  }
  if (flags & 0x04) {
    if (p >= n) return undefined;
    p += 1 + bytes[p]!;
    if (p > n) return undefined;
  }
  result.headerLength = p - at;
  return result;
}
