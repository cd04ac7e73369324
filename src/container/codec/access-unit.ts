import { lengthPrefixed, splitAnnexB } from "./annexb.ts";
import { H264_NAL, h264NalType } from "./h264-sps.ts";
import { HEVC_NAL, hevcNalType } from "./hevc-sps.ts";

/** The two NAL-unit video codecs. */
export type NalCodec = "avc" | "hevc";

/** An Annex B access unit turned into an MP4 sample plus the parameter sets it carried. */
export interface AccessUnit {
  /**
   * The remaining NAL units as 4-byte length-prefixed units (ISO/IEC 14496-15 sample format);
   * empty when the access unit held only parameter sets / delimiters / filler.
   */
  data: Uint8Array;
  /** H.264: an IDR slice (type 5) is present; H.265: an IRAP slice (types 16..23). */
  keyframe: boolean;
  /** Parameter sets in stream order, as views into the input (copy before keeping them). */
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/**
 * Splits an Annex B access unit (one PES payload) into the sample the fMP4 writer needs: access
 * unit delimiters (H.264 type 9 / H.265 type 35), filler data (12 / 38) and parameter sets
 * (SPS 7, PPS 8 / VPS 32, SPS 33, PPS 34) are removed from the sample and the parameter sets are
 * returned apart, for the decoder configuration record (an `avc1`/`hvc1` sample entry must not rely
 * on in-band parameter sets). Everything else (slices, SEI, ...) is kept in order. O(n).
 */
export function splitAccessUnit(codec: NalCodec, annexB: Uint8Array): AccessUnit {
  const keep: Uint8Array[] = [];
  const au: AccessUnit = { data: new Uint8Array(0), keyframe: false, vps: [], sps: [], pps: [] };
  for (const nal of splitAnnexB(annexB)) {
    if (codec === "avc") {
      const type = h264NalType(nal);
      if (type === H264_NAL.AUD || type === H264_NAL.FILLER) continue;
      if (type === H264_NAL.SPS) au.sps.push(nal);
      else if (type === H264_NAL.PPS) au.pps.push(nal);
      else {
        if (type === H264_NAL.IDR) au.keyframe = true;
        keep.push(nal);
      }
    } else {
      if (nal.byteLength < 2) continue; // a NAL unit header is 2 bytes (H.265 §7.3.1.2)
      const type = hevcNalType(nal);
      if (type === HEVC_NAL.AUD || type === HEVC_NAL.FILLER) continue;
      if (type === HEVC_NAL.VPS) au.vps.push(nal);
      else if (type === HEVC_NAL.SPS) au.sps.push(nal);
      else if (type === HEVC_NAL.PPS) au.pps.push(nal);
      else {
        if (type >= HEVC_NAL.IRAP_FIRST && type <= HEVC_NAL.IRAP_LAST) au.keyframe = true;
        keep.push(nal);
      }
    }
  }
  if (keep.length > 0) au.data = lengthPrefixed(keep);
  return au;
}
