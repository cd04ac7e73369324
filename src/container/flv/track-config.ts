import { readAudioSpecificConfig } from "../codec/aac.ts";
import { readAvcDecoderConfig } from "../codec/avc-config.ts";
import { readHevcDecoderConfig } from "../codec/hevc-config.ts";
import { OPUS_SAMPLE_RATE, readOpusHead, writeOpusHead } from "../codec/opus.ts";
import { ParseError } from "../errors.ts";
import type { AudioCodec, AudioTrackConfig, VideoCodec, VideoTrackConfig } from "../remux/frame.ts";

/** RTMP/FLV timestamps and composition offsets are milliseconds. */
const FLV_TIMESCALE = 1000;

/** A video track as the FLV demuxer keeps it: the config plus how its NAL units are length-prefixed. */
export interface FlvVideoTrack {
  config: VideoTrackConfig;
  /** NAL unit length field size (1, 2 or 4) for AVC/HEVC; 0 for AV1/VP9. */
  lengthSize: number;
}

/** Picture size the publisher announced in onMetaData, the fallback when the record cannot give one. */
export interface AnnouncedSize {
  width: number;
  height: number;
}

/**
 * A video sequence header's record → track config. AVC/HEVC: the size comes from the SPS (with the
 * announced size as fallback when the SPS cannot be parsed, reported through `warn`); AV1/VP9: the
 * announced size (0 × 0 when none). VP9: a record written with the `vpcC` FullBox version/flags in
 * front (version 1, flags 0) loses them, since `VideoTrackConfig.record` is the payload after them.
 * Throws `ParseError("malformed")` for a record too short to be one.
 */
export function videoTrack(codec: VideoCodec, record: Uint8Array, announced: AnnouncedSize, warn: (detail: string) => void): FlvVideoTrack {
  let lengthSize = 0;
  let size: AnnouncedSize = announced;
  const sized = (read: (r: Uint8Array) => AnnouncedSize): void => {
    try {
      size = read(record);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      warn(`${codec} sequence header: ${e.message}; using the announced ${announced.width}x${announced.height}`);
    }
  };
  switch (codec) {
    case "avc":
      // ISO/IEC 14496-15 §5.3.3.1.2: byte 4 holds lengthSizeMinusOne.
      need(record, 7, codec);
      lengthSize = (record[4]! & 3) + 1;
      sized(readAvcDecoderConfig);
      break;
    case "hevc":
      // §8.3.3.1.2: lengthSizeMinusOne is the low 2 bits of byte 21; numOfArrays (byte 22) follows.
      need(record, 23, codec);
      lengthSize = (record[21]! & 3) + 1;
      sized(readHevcDecoderConfig);
      break;
    case "av1":
      // AV1-ISOBMFF §2.3.3: marker (1) + version (7) = 0x81, then 3 more bytes, then configOBUs.
      need(record, 4, codec);
      if (record[0] !== 0x81) throw new ParseError("malformed", "av1C marker/version byte is not 0x81");
      break;
    case "vp9":
      // VP9-ISOBMFF §2.2: profile, level, bitDepth/chroma/range, 3 colour bytes, codecInitializationDataSize (2).
      if (record.byteLength >= 12 && record[0] === 1 && record[1] === 0 && record[2] === 0 && record[3] === 0) record = record.subarray(4);
      need(record, 8, codec);
      break;
  }
  if (lengthSize === 3) throw new ParseError("malformed", `${codec} record with 3-byte NAL lengths`);
  return {
    config: { kind: "video", codec, record: record.slice(), width: size.width, height: size.height, timescale: FLV_TIMESCALE },
    lengthSize,
  };
}

/** The OpusHead assumed for an empty Opus sequence start: stereo, no pre-skip, no gain, mapping family 0. */
const DEFAULT_OPUS_HEAD = {
  channels: 2,
  preSkip: 0,
  inputSampleRate: OPUS_SAMPLE_RATE,
  outputGain: 0,
  mappingFamily: 0,
  mappingTable: undefined,
} as const;

/**
 * An audio sequence header → track config. AAC: the AudioSpecificConfig, channels from it or else the
 * legacy SoundType bit. Opus: the OpusHead as sent, or, for an empty sequence start (E-RTMP v2, "default
 * to mono/stereo mode"), a built stereo one (pre-skip 0, 48 kHz, family 0). Throws
 * `ParseError("malformed")` when the config cannot be read: an AudioSpecificConfig too short or with a
 * reserved sampling frequency, an OpusHead `readOpusHead` refuses.
 */
export function audioTrack(codec: AudioCodec, config: Uint8Array, stereo: boolean | undefined): AudioTrackConfig {
  if (codec === "aac") {
    const asc = readAudioSpecificConfig(config);
    if (!asc) throw new ParseError("malformed", `AudioSpecificConfig of ${config.byteLength} bytes is truncated`);
    if (asc.sampleRate === 0) throw new ParseError("malformed", "AudioSpecificConfig with a reserved sampling frequency");
    const channels = asc.channels || (stereo === false ? 1 : 2);
    return { kind: "audio", codec, config: config.slice(), sampleRate: asc.sampleRate, channels, timescale: FLV_TIMESCALE };
  }
  const head = config.byteLength === 0 ? writeOpusHead(DEFAULT_OPUS_HEAD) : config.slice();
  const { channels } = readOpusHead(head);
  // Opus always decodes at 48 kHz (RFC 7845 §5.1: the input rate is informational).
  return { kind: "audio", codec, config: head, sampleRate: OPUS_SAMPLE_RATE, channels, timescale: FLV_TIMESCALE };
}

function need(record: Uint8Array, n: number, codec: VideoCodec): void {
  if (record.byteLength < n) throw new ParseError("malformed", `${codec} sequence header of ${record.byteLength} bytes`);
}
