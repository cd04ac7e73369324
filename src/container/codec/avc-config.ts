import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";
import { H264_NAL, h264NalType, parseH264Sps } from "./h264-sps.ts";

/** Largest parameter set a record can hold (a u16 length, ISO/IEC 14496-15 §5.3.3.1.2). */
const MAX_PARAMETER_SET = 0xffff;
/** avcC counts: numOfSequenceParameterSets is 5 bits, numOfPictureParameterSets 8 bits. */
const MAX_SPS = 31;
const MAX_PPS = 255;
/**
 * Profiles whose record carries chroma_format / bit depths / SPS extensions (§5.3.3.1.2 lists 100,
 * 110, 122 and 144; 144 was the High 4:4:4 profile that H.264 replaced by 244, which ffmpeg also
 * extends, so 244 is included).
 */
const EXTENDED_PROFILES = new Set([100, 110, 122, 144, 244]);

/**
 * The AVCDecoderConfigurationRecord (`avcC` payload, ISO/IEC 14496-15 §5.3.3.1.2) for `sps` and
 * `pps` NAL units (header byte included, emulation prevention kept), with lengthSizeMinusOne = 3
 * (4-byte NAL lengths). Profile, compatibility and level come from the first SPS; for the High
 * profiles the chroma format / bit depth extension is written, with no SPS extensions.
 * Throws `ParseError("malformed")` when there is no SPS or PPS, or they cannot be parsed / stored.
 */
export function buildAvcDecoderConfig(sps: Uint8Array[], pps: Uint8Array[]): Uint8Array {
  if (sps.length === 0 || pps.length === 0) throw new ParseError("malformed", "avcC needs at least one SPS and one PPS");
  if (sps.length > MAX_SPS || pps.length > MAX_PPS) throw new ParseError("malformed", "too many H.264 parameter sets for avcC");
  for (const ps of [...sps, ...pps]) {
    if (ps.byteLength > MAX_PARAMETER_SET) throw new ParseError("malformed", "H.264 parameter set above 65535 bytes");
  }
  const first = parseH264Sps(sps[0]!);
  const extended = EXTENDED_PROFILES.has(first.profileIdc);
  let size = 7 + (extended ? 4 : 0);
  for (const ps of [...sps, ...pps]) size += 2 + ps.byteLength;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let o = 0;
  out[o++] = 1; // configurationVersion
  out[o++] = first.profileIdc;
  out[o++] = first.constraintFlags; // profile_compatibility
  out[o++] = first.levelIdc;
  out[o++] = 0xfc | 3; // reserved '111111' + lengthSizeMinusOne
  out[o++] = 0xe0 | sps.length; // reserved '111' + numOfSequenceParameterSets
  for (const ps of sps) {
    view.setUint16(o, ps.byteLength);
    out.set(ps, o + 2);
    o += 2 + ps.byteLength;
  }
  out[o++] = pps.length;
  for (const ps of pps) {
    view.setUint16(o, ps.byteLength);
    out.set(ps, o + 2);
    o += 2 + ps.byteLength;
  }
  if (extended) {
    out[o++] = 0xfc | first.chromaFormatIdc;
    out[o++] = 0xf8 | (first.bitDepthLuma - 8);
    out[o++] = 0xf8 | (first.bitDepthChroma - 8);
    out[o++] = 0; // numOfSequenceParameterSetExt
  }
  return out;
}

/**
 * Picture size from an AVCDecoderConfigurationRecord (as found in an `avcC` box or an FLV/E-RTMP
 * AVC sequence header): the first SPS, parsed with its frame cropping. Throws
 * `ParseError("malformed")` when the record or its SPS is broken or there is no SPS.
 */
export function readAvcDecoderConfig(record: Uint8Array): { width: number; height: number } {
  const r = new Reader(record);
  if (r.u8() !== 1) throw new ParseError("malformed", "avcC configurationVersion is not 1");
  r.skip(4); // profile, compatibility, level, lengthSizeMinusOne
  const numSps = r.u8() & 0x1f;
  if (numSps === 0) throw new ParseError("malformed", "avcC without an SPS");
  const len = r.u16();
  r.need(len, "avcC SPS");
  const sps = r.bytes.subarray(r.pos, r.pos + len);
  if (h264NalType(sps) !== H264_NAL.SPS) throw new ParseError("malformed", "avcC: first parameter set is not an SPS");
  const { width, height } = parseH264Sps(sps);
  return { width, height };
}
