import { fourcc } from "../fmp4/boxes.ts";

/**
 * Box and sample-entry types the writer needs beyond those the fMP4 parser names in
 * `../fmp4/boxes.ts` (ISO/IEC 14496-12 unless noted).
 */
export const MVHD = fourcc("mvhd");
export const VMHD = fourcc("vmhd");
export const SMHD = fourcc("smhd");
export const DINF = fourcc("dinf");
export const DREF = fourcc("dref");
export const URL_ = fourcc("url ");
export const STTS = fourcc("stts");
export const STSC = fourcc("stsc");
export const STSZ = fourcc("stsz");
export const STCO = fourcc("stco");
// Sample entries: ISO/IEC 14496-15 (avc1 §5.4.2, hvc1 §8.4.1), AV1-ISOBMFF §2.2, VP-ISOBMFF §2.1,
// ISO/IEC 14496-14 §5.6 (mp4a), Opus-ISOBMFF §4.3.1 (Opus).
export const AVC1 = fourcc("avc1");
export const HVC1 = fourcc("hvc1");
export const AV01 = fourcc("av01");
export const VP09 = fourcc("vp09");
export const MP4A = fourcc("mp4a");
export const OPUS = fourcc("Opus");
export const DOPS = fourcc("dOps"); // Opus-ISOBMFF §4.3.2
// Handler types (§8.4.3).
export const VIDE = fourcc("vide");
export const SOUN = fourcc("soun");
// Brands (§4.3, §E; ISO/IEC 23000-19 for cmfc).
export const ISO5 = fourcc("iso5");
export const ISO6 = fourcc("iso6");
export const MP41 = fourcc("mp41");
export const CMFC = fourcc("cmfc");
