import { ParseError } from "../errors.ts";
import { removeEmulationPrevention } from "./annexb.ts";
import { BitReader } from "./bit-reader.ts";

/** H.265 NAL unit types (ITU-T H.265 Table 7-1) this code acts on. */
export const HEVC_NAL = {
  /** IRAP pictures are types 16..23 (BLA, IDR, CRA and the reserved IRAP types). */
  IRAP_FIRST: 16,
  IRAP_LAST: 23,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  AUD: 35,
  FILLER: 38,
  PREFIX_SEI: 39,
  SUFFIX_SEI: 40,
} as const;

/** nal_unit_type of an H.265 NAL unit (bits 1..6 of its two-byte header). */
export function hevcNalType(nal: Uint8Array): number {
  return (nal[0]! >> 1) & 0x3f;
}

/** The general_* part of profile_tier_level() (H.265 §7.3.3), as hvcC copies it. */
interface HevcProfileTierLevel {
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  /** general_profile_compatibility_flag[0..31] as one big-endian u32. */
  compatibilityFlags: number;
  /** The 48 bits from general_progressive_source_flag to general_inbld/reserved flag, as 6 bytes. */
  constraintFlags: Uint8Array;
  levelIdc: number;
}

/** What an H.265 SPS says that hvcC and a player need. */
export interface HevcSps {
  id: number;
  vpsId: number;
  maxSubLayers: number;
  temporalIdNesting: number;
  ptl: HevcProfileTierLevel;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Displayed size: pic_width/height_in_luma_samples minus the conformance window. */
  width: number;
  height: number;
}

/**
 * Parses an H.265 SPS NAL unit (2-byte header included, emulation prevention still in) per
 * ITU-T H.265 §7.3.2.2.1, up to the bit depths. Throws `ParseError("malformed")` when it is not an
 * SPS, ends early or has a field out of range.
 */
export function parseHevcSps(nal: Uint8Array): HevcSps {
  if (nal.byteLength < 16 || hevcNalType(nal) !== HEVC_NAL.SPS) throw new ParseError("malformed", "not an H.265 SPS");
  const r = new BitReader(removeEmulationPrevention(nal).subarray(2), "H.265 SPS");
  const vpsId = r.bits(4);
  const maxSubLayersMinus1 = r.bits(3);
  if (maxSubLayersMinus1 > 6) throw new ParseError("malformed", "H.265 SPS: sps_max_sub_layers_minus1 above 6");
  const temporalIdNesting = r.u1();
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  const id = r.ueMax(15, "sps_seq_parameter_set_id");
  const chromaFormatIdc = r.ueMax(3, "chroma_format_idc");
  if (chromaFormatIdc === 3) r.skip(1); // separate_colour_plane_flag (ChromaArrayType 0 crops like 4:4:4: SubWidthC = SubHeightC = 1)
  const codedWidth = r.ueMax(65535, "pic_width_in_luma_samples");
  const codedHeight = r.ueMax(65535, "pic_height_in_luma_samples");
  let left = 0;
  let right = 0;
  let top = 0;
  let bottom = 0;
  if (r.u1()) {
    left = r.ue();
    right = r.ue();
    top = r.ue();
    bottom = r.ue();
  }
  const bitDepthLuma = 8 + r.ueMax(8, "bit_depth_luma_minus8");
  const bitDepthChroma = 8 + r.ueMax(8, "bit_depth_chroma_minus8");
  // Conformance window offsets are in chroma samples (§7.4.3.2.1, Table 6-1).
  const subWidthC = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
  const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
  const width = codedWidth - subWidthC * (left + right);
  const height = codedHeight - subHeightC * (top + bottom);
  if (width <= 0 || height <= 0) throw new ParseError("malformed", `H.265 SPS: conformance window leaves ${width}x${height}`);
  return {
    id,
    vpsId,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    ptl,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    width,
    height,
  };
}

/** profile_tier_level(1, maxNumSubLayersMinus1) of H.265 §7.3.3; returns the general part, skips the sub-layer part. */
function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): HevcProfileTierLevel {
  const profileSpace = r.bits(2);
  const tierFlag = r.u1();
  const profileIdc = r.bits(5);
  const compatibilityFlags = r.bits(32);
  const constraintFlags = new Uint8Array(6);
  for (let i = 0; i < 6; i++) constraintFlags[i] = r.bits(8);
  const levelIdc = r.bits(8);
  const profilePresent: number[] = [];
  const levelPresent: number[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.u1());
    levelPresent.push(r.u1());
  }
  if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) r.skip(88); // sub_layer profile space..reserved flags
    if (levelPresent[i]) r.skip(8); // sub_layer_level_idc
  }
  return { profileSpace, tierFlag, profileIdc, compatibilityFlags, constraintFlags, levelIdc };
}

/** vps_video_parameter_set_id of an H.265 VPS NAL unit (H.265 §7.3.2.1: the first 4 bits after the header). */
export function hevcVpsId(nal: Uint8Array): number {
  if (nal.byteLength < 3) throw new ParseError("malformed", "H.265 VPS too short");
  return nal[2]! >> 4;
}

/** pps_pic_parameter_set_id of an H.265 PPS NAL unit (H.265 §7.3.2.3.1: the first ue(v)). */
export function hevcPpsId(nal: Uint8Array): number {
  const r = new BitReader(removeEmulationPrevention(nal.subarray(0, Math.min(nal.byteLength, 16))).subarray(2), "H.265 PPS");
  return r.ueMax(63, "pps_pic_parameter_set_id");
}
