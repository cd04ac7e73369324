import { ParseError } from "../errors.ts";
import { ESDS } from "../fmp4/boxes.ts";
import { DOPS } from "./box-types.ts";
import type { BoxWriter } from "./box-writer.ts";

// MPEG-4 Systems descriptor tags, ISO/IEC 14496-1 §7.2.2.1.
const ES_DESCR_TAG = 0x03;
const DECODER_CONFIG_DESCR_TAG = 0x04;
const DECODER_SPECIFIC_INFO_TAG = 0x05;
const SL_CONFIG_DESCR_TAG = 0x06;
// objectTypeIndication "Audio ISO/IEC 14496-3" and streamType AudioStream (§7.2.6.6.2, tables 5 and 6).
const OTI_MPEG4_AUDIO = 0x40;
const STREAM_TYPE_AUDIO = 0x05;
// SLConfigDescriptor predefined = 2: "reserved for use in MP4 files" (§7.3.2.3.2).
const SL_PREDEFINED_MP4 = 2;
/** The largest body an expandable descriptor size can state in 4 bytes (§8.3.3). */
const MAX_DESCRIPTOR_BODY = 0x0fff_ffff;

/** Length of a descriptor's expandable size field for `n` body bytes (ISO/IEC 14496-1 §8.3.3). */
function sizeBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x20_0000 ? 3 : 4;
}

/** A descriptor header: tag, then the size in 7-bit groups, high bit set on all but the last. */
function descriptor(w: BoxWriter, tag: number, body: number): void {
  w.u8(tag);
  for (let i = sizeBytes(body) - 1; i > 0; i--) w.u8(0x80 | ((body >>> (7 * i)) & 0x7f));
  w.u8(body & 0x7f);
}

/**
 * Writes an `esds` box (ISO/IEC 14496-14 §5.6) for MPEG-4 audio: ES_Descriptor (ES_ID 0 as stored in
 * a file, §3.1.2) → DecoderConfigDescriptor (objectTypeIndication 0x40, AudioStream, no buffer size
 * or bitrates) → DecoderSpecificInfo = `asc`, the AudioSpecificConfig; then SLConfigDescriptor
 * predefined 2. Throws `too-large` when `asc` cannot be described.
 */
export function writeEsds(w: BoxWriter, asc: Uint8Array): void {
  if (asc.byteLength > MAX_DESCRIPTOR_BODY - 64) throw new ParseError("too-large", `AudioSpecificConfig of ${asc.byteLength} bytes`);
  const dsi = asc.byteLength;
  const dcd = 13 + 1 + sizeBytes(dsi) + dsi;
  const sl = 1;
  const es = 3 + 1 + sizeBytes(dcd) + dcd + 1 + sizeBytes(sl) + sl;
  const box = w.beginFull(ESDS, 0, 0);
  descriptor(w, ES_DESCR_TAG, es);
  w.u16(0); // ES_ID
  w.u8(0); // streamDependenceFlag, URL_Flag, OCRstreamFlag, streamPriority
  descriptor(w, DECODER_CONFIG_DESCR_TAG, dcd);
  w.u8(OTI_MPEG4_AUDIO);
  w.u8((STREAM_TYPE_AUDIO << 2) | 0x01); // streamType(6), upStream(1) = 0, reserved(1) = 1
  w.u24(0); // bufferSizeDB
  w.u32(0); // maxBitrate
  w.u32(0); // avgBitrate
  descriptor(w, DECODER_SPECIFIC_INFO_TAG, dsi);
  w.data(asc);
  descriptor(w, SL_CONFIG_DESCR_TAG, sl);
  w.u8(SL_PREDEFINED_MP4);
  w.end(box);
}

// AAC sampling frequencies by samplingFrequencyIndex, ISO/IEC 14496-3 §1.6.3.4 table 1.16.
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/**
 * The sampling frequency an AudioSpecificConfig states (ISO/IEC 14496-3 §1.6.2.1: audioObjectType,
 * with the 31 escape, then samplingFrequencyIndex or, for 0xf, a 24-bit frequency), or undefined
 * when it is too short or names a reserved index. For HE-AAC with implicit SBR signalling this is
 * the core rate, the one whose 1024-sample frames the samples are.
 */
export function aacSampleRate(asc: Uint8Array): number | undefined {
  let bitPos = 0;
  const bits = (n: number): number | undefined => {
    let v = 0;
    for (let i = 0; i < n; i++, bitPos++) {
      const byte = asc[bitPos >> 3];
      if (byte === undefined) return undefined;
      v = v * 2 + ((byte >> (7 - (bitPos & 7))) & 1);
    }
    return v;
  };
  const aot = bits(5);
  if (aot === 31) bits(6);
  const index = bits(4);
  if (index === undefined) return undefined;
  return index === 0xf ? bits(24) || undefined : AAC_RATES[index];
}

/** What an `OpusHead` (RFC 7845 §5.1) says; little-endian on the wire. */
export interface OpusHead {
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  outputGain: number;
  mappingFamily: number;
  /** Family ≠ 0: stream count, coupled count, then one mapping byte per output channel. */
  mappingTable: Uint8Array | undefined;
}

const OPUS_HEAD_MAGIC = "OpusHead";
const OPUS_HEAD_SIZE = 19;

/**
 * Reads an `OpusHead` packet (RFC 7845 §5.1). Throws `malformed` without the magic, for a major
 * version other than 0 (§5.1: version 1 is current, 0x0X all compatible), zero channels, family 0
 * with more than 2 channels, or a channel mapping table that does not fit.
 */
export function readOpusHead(head: Uint8Array): OpusHead {
  const bad = (why: string) => new ParseError("malformed", `OpusHead: ${why}`);
  if (head.byteLength < OPUS_HEAD_SIZE) throw bad(`${head.byteLength} bytes, needs ${OPUS_HEAD_SIZE}`);
  for (let i = 0; i < 8; i++) if (head[i] !== OPUS_HEAD_MAGIC.charCodeAt(i)) throw bad("no 'OpusHead' magic");
  if (head[8]! >> 4 !== 0) throw bad(`unsupported version ${head[8]}`);
  const channels = head[9]!;
  if (channels === 0) throw bad("zero channels");
  const gain = head[16]! | (head[17]! << 8);
  const mappingFamily = head[18]!;
  let mappingTable: Uint8Array | undefined;
  if (mappingFamily === 0) {
    if (channels > 2) throw bad(`mapping family 0 with ${channels} channels`);
  } else {
    // §5.1.1: stream count, coupled stream count, channel mapping[channels].
    if (head.byteLength < OPUS_HEAD_SIZE + 2 + channels) throw bad(`mapping table needs ${2 + channels} bytes`);
    mappingTable = head.subarray(OPUS_HEAD_SIZE, OPUS_HEAD_SIZE + 2 + channels);
  }
  return {
    channels,
    preSkip: head[10]! | (head[11]! << 8),
    inputSampleRate: (head[12]! | (head[13]! << 8) | (head[14]! << 16) | (head[15]! << 24)) >>> 0,
    outputGain: gain >= 0x8000 ? gain - 0x10000 : gain,
    mappingFamily,
    mappingTable,
  };
}

/**
 * Writes a `dOps` box (Opus-ISOBMFF §4.3.2) from an OpusHead: the same fields big-endian, Version 0,
 * OutputChannelCount = the head's channel count, then the ChannelMappingTable when the family is not 0.
 */
export function writeDops(w: BoxWriter, head: OpusHead): void {
  const box = w.begin(DOPS);
  w.u8(0); // Version
  w.u8(head.channels);
  w.u16(head.preSkip);
  w.u32(head.inputSampleRate);
  w.u16(head.outputGain & 0xffff);
  w.u8(head.mappingFamily);
  if (head.mappingTable) w.data(head.mappingTable);
  w.end(box);
}
