import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";
import { HEVC_NAL, hevcNalType, parseHevcSps } from "./hevc-sps.ts";

const MAX_PARAMETER_SET = 0xffff;
/** Size of the fixed part of the record before numOfArrays (ISO/IEC 14496-15 §8.3.3.1.2). */
const HEADER = 22;

/**
 * The HEVCDecoderConfigurationRecord (`hvcC` payload, ISO/IEC 14496-15 §8.3.3.1.2) for `vps`, `sps`
 * and `pps` NAL units (2-byte header included, emulation prevention kept), one array per type with
 * array_completeness = 1 (what `hvc1` requires), lengthSizeMinusOne = 3. Profile/tier/level,
 * chroma format, bit depths and temporal layers come from the first SPS; min_spatial_segmentation,
 * parallelismType, avgFrameRate and constantFrameRate are written as 0 ("unknown").
 * Throws `ParseError("malformed")` when a type is missing or a parameter set cannot be parsed/stored.
 */
export function buildHevcDecoderConfig(vps: Uint8Array[], sps: Uint8Array[], pps: Uint8Array[]): Uint8Array {
  if (vps.length === 0 || sps.length === 0 || pps.length === 0) throw new ParseError("malformed", "hvcC needs a VPS, an SPS and a PPS");
  const arrays: Array<[number, Uint8Array[]]> = [
    [HEVC_NAL.VPS, vps],
    [HEVC_NAL.SPS, sps],
    [HEVC_NAL.PPS, pps],
  ];
  let size = HEADER + 1;
  for (const [, list] of arrays) {
    if (list.length > 0xffff) throw new ParseError("malformed", "too many H.265 parameter sets for hvcC");
    size += 3;
    for (const ps of list) {
      if (ps.byteLength > MAX_PARAMETER_SET) throw new ParseError("malformed", "H.265 parameter set above 65535 bytes");
      size += 2 + ps.byteLength;
    }
  }
  const s = parseHevcSps(sps[0]!);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = 1; // configurationVersion
  out[1] = (s.ptl.profileSpace << 6) | (s.ptl.tierFlag << 5) | s.ptl.profileIdc;
  view.setUint32(2, s.ptl.compatibilityFlags);
  out.set(s.ptl.constraintFlags, 6);
  out[12] = s.ptl.levelIdc;
  view.setUint16(13, 0xf000); // reserved '1111' + min_spatial_segmentation_idc 0
  out[15] = 0xfc; // reserved '111111' + parallelismType 0 (unknown)
  out[16] = 0xfc | s.chromaFormatIdc;
  out[17] = 0xf8 | (s.bitDepthLuma - 8);
  out[18] = 0xf8 | (s.bitDepthChroma - 8);
  view.setUint16(19, 0); // avgFrameRate: unspecified
  // constantFrameRate (2 bits) 0, numTemporalLayers (3), temporalIdNested (1), lengthSizeMinusOne (2) = 3.
  out[21] = (s.maxSubLayers << 3) | (s.temporalIdNesting << 2) | 3;
  out[22] = arrays.length;
  let o = HEADER + 1;
  for (const [type, list] of arrays) {
    out[o] = 0x80 | type; // array_completeness 1, reserved 0, NAL_unit_type
    view.setUint16(o + 1, list.length);
    o += 3;
    for (const ps of list) {
      view.setUint16(o, ps.byteLength);
      out.set(ps, o + 2);
      o += 2 + ps.byteLength;
    }
  }
  return out;
}

/**
 * Picture size from an HEVCDecoderConfigurationRecord (an `hvcC` box or an E-RTMP HEVC sequence
 * start): the first SPS of its arrays, parsed with its conformance window. Throws
 * `ParseError("malformed")` when the record or its SPS is broken or there is no SPS.
 */
export function readHevcDecoderConfig(record: Uint8Array): { width: number; height: number } {
  const r = new Reader(record);
  if (r.u8() !== 1) throw new ParseError("malformed", "hvcC configurationVersion is not 1");
  r.skip(HEADER - 1);
  const numArrays = r.u8();
  for (let a = 0; a < numArrays; a++) {
    const type = r.u8() & 0x3f;
    const count = r.u16();
    for (let i = 0; i < count; i++) {
      const len = r.u16();
      r.need(len, "hvcC NAL unit");
      const nal = r.bytes.subarray(r.pos, r.pos + len);
      r.skip(len);
      if (type === HEVC_NAL.SPS && hevcNalType(nal) === HEVC_NAL.SPS) {
        const { width, height } = parseHevcSps(nal);
        return { width, height };
      }
    }
  }
  throw new ParseError("malformed", "hvcC without an SPS");
}
