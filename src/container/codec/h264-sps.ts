import { ParseError } from "../errors.ts";
import { removeEmulationPrevention } from "./annexb.ts";
import { BitReader } from "./bit-reader.ts";

/** H.264 NAL unit types (ITU-T H.264 Table 7-1) this code acts on. */
export const H264_NAL = {
  SLICE: 1,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  FILLER: 12,
  SPS_EXT: 13,
} as const;

/** nal_unit_type of an H.264 NAL unit (its first byte's low 5 bits). */
export function h264NalType(nal: Uint8Array): number {
  return nal[0]! & 0x1f;
}

/** What an H.264 sequence parameter set says that a container needs. */
export interface H264Sps {
  id: number;
  profileIdc: number;
  /** constraint_set0..5 flags and reserved bits: the byte between profile_idc and level_idc. */
  constraintFlags: number;
  levelIdc: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Displayed size: coded macroblocks minus the frame cropping rectangle. */
  width: number;
  height: number;
}

/** Profiles whose SPS carries chroma_format_idc and bit depths (H.264 §7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/**
 * Parses an H.264 SPS NAL unit (header byte included, emulation prevention still in) per
 * ITU-T H.264 §7.3.2.1.1, up to the frame cropping fields. Throws `ParseError("malformed")` when
 * it is not an SPS or ends early, or when a field is outside its range.
 */
export function parseH264Sps(nal: Uint8Array): H264Sps {
  if (nal.byteLength < 4 || h264NalType(nal) !== H264_NAL.SPS) throw new ParseError("malformed", "not an H.264 SPS");
  const r = new BitReader(removeEmulationPrevention(nal).subarray(1), "H.264 SPS");
  const profileIdc = r.bits(8);
  const constraintFlags = r.bits(8);
  const levelIdc = r.bits(8);
  const id = r.ueMax(31, "seq_parameter_set_id");
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ueMax(3, "chroma_format_idc");
    if (chromaFormatIdc === 3) separateColourPlane = r.u1();
    bitDepthLuma = 8 + r.ueMax(6, "bit_depth_luma_minus8");
    bitDepthChroma = 8 + r.ueMax(6, "bit_depth_chroma_minus8");
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u1()) {
      // seq_scaling_matrix_present_flag: scaling_list() syntax of §7.3.2.1.1.1, read only to skip it.
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) if (r.u1()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ueMax(12, "log2_max_frame_num_minus4");
  const pocType = r.ueMax(2, "pic_order_cnt_type");
  if (pocType === 0) {
    r.ueMax(12, "log2_max_pic_order_cnt_lsb_minus4");
  } else if (pocType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ueMax(255, "num_ref_frames_in_pic_order_cnt_cycle");
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ueMax(1023, "pic_width_in_mbs_minus1") + 1;
  const heightMapUnits = r.ueMax(1023, "pic_height_in_map_units_minus1") + 1;
  const frameMbsOnly = r.u1();
  if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  let cropLeft = 0;
  let cropRight = 0;
  let cropTop = 0;
  let cropBottom = 0;
  if (r.u1()) {
    cropLeft = r.ue();
    cropRight = r.ue();
    cropTop = r.ue();
    cropBottom = r.ue();
  }
  // Crop units, equations 7-19..7-22: in luma samples, scaled by the chroma subsampling and by 2 for fields.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
  const width = widthMbs * 16 - cropUnitX * (cropLeft + cropRight);
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropUnitY * (cropTop + cropBottom);
  if (width <= 0 || height <= 0) throw new ParseError("malformed", `H.264 SPS: cropping leaves ${width}x${height}`);
  return { id, profileIdc, constraintFlags, levelIdc, chromaFormatIdc, bitDepthLuma, bitDepthChroma, width, height };
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** pic_parameter_set_id of an H.264 PPS NAL unit (H.264 §7.3.2.2: the first ue(v)). */
export function h264PpsId(nal: Uint8Array): number {
  const r = new BitReader(removeEmulationPrevention(nal.subarray(0, Math.min(nal.byteLength, 16))).subarray(1), "H.264 PPS");
  return r.ueMax(255, "pic_parameter_set_id");
}
