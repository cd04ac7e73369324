import type { OpusHead } from "../codec/opus.ts";
import { ParseError } from "../errors.ts";
import { DOPS, ESDS } from "../fmp4/box-types.ts";
import { DECODER_CONFIG_DESCR_TAG, DECODER_SPECIFIC_INFO_TAG, ES_DESCR_TAG, OTI_MPEG4_AUDIO, SL_CONFIG_DESCR_TAG } from "../fmp4/esds.ts";
import type { BoxWriter } from "./box-writer.ts";

// streamType AudioStream (ISO/IEC 14496-1 §7.2.6.6.2, table 6).
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
