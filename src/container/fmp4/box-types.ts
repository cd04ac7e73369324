/**
 * ISO BMFF vocabulary shared by the fMP4 reader (this folder) and the writer (../remux): box,
 * sample-entry, handler and brand fourccs, and the flag bits of the movie-fragment boxes
 * (ISO/IEC 14496-12 unless noted).
 */

/** A fourcc as the big-endian u32 it is on the wire (compared as a number: no string per box). */
export function fourcc(name: string): number {
  return ((name.charCodeAt(0) << 24) | (name.charCodeAt(1) << 16) | (name.charCodeAt(2) << 8) | name.charCodeAt(3)) >>> 0;
}

/** The four characters of a numeric fourcc. */
export function fourccName(type: number): string {
  return String.fromCharCode(type >>> 24, (type >>> 16) & 0xff, (type >>> 8) & 0xff, type & 0xff);
}

// Box types.
export const FTYP = fourcc("ftyp");
export const MOOV = fourcc("moov");
export const MVHD = fourcc("mvhd");
export const TRAK = fourcc("trak");
export const TKHD = fourcc("tkhd");
export const MDIA = fourcc("mdia");
export const MDHD = fourcc("mdhd");
export const HDLR = fourcc("hdlr");
export const MINF = fourcc("minf");
export const VMHD = fourcc("vmhd");
export const SMHD = fourcc("smhd");
export const DINF = fourcc("dinf");
export const DREF = fourcc("dref");
export const URL_ = fourcc("url ");
export const STBL = fourcc("stbl");
export const STSD = fourcc("stsd");
export const STTS = fourcc("stts");
export const STSC = fourcc("stsc");
export const STSZ = fourcc("stsz");
export const STCO = fourcc("stco");
export const MVEX = fourcc("mvex");
export const TREX = fourcc("trex");
export const MOOF = fourcc("moof");
export const MFHD = fourcc("mfhd");
export const TRAF = fourcc("traf");
export const TFHD = fourcc("tfhd");
export const TFDT = fourcc("tfdt");
export const TRUN = fourcc("trun");
export const MDAT = fourcc("mdat");
export const MFRA = fourcc("mfra");
export const FREE = fourcc("free");
export const SKIP = fourcc("skip");
export const PRFT = fourcc("prft");
// Sample entries: ISO/IEC 14496-15 (avc1 §5.4.2, hvc1 §8.4.1), AV1-ISOBMFF §2.2, VP-ISOBMFF §2.1,
// ISO/IEC 14496-14 §5.6 (mp4a), Opus-ISOBMFF §4.3.1 (Opus).
export const AVC1 = fourcc("avc1");
export const HVC1 = fourcc("hvc1");
export const AV01 = fourcc("av01");
export const VP09 = fourcc("vp09");
export const MP4A = fourcc("mp4a");
export const OPUS = fourcc("Opus");
// Codec configuration boxes inside sample entries.
export const AVCC = fourcc("avcC"); // ISO/IEC 14496-15 §5.4.2
export const HVCC = fourcc("hvcC"); // ISO/IEC 14496-15 §8.4.1
export const AV1C = fourcc("av1C"); // AV1-ISOBMFF §2.3
export const VPCC = fourcc("vpcC"); // VP codec ISO-BMFF binding §2.2
export const ESDS = fourcc("esds"); // ISO/IEC 14496-14 §5.6
export const DOPS = fourcc("dOps"); // Opus-ISOBMFF §4.3.2
export const WAVE = fourcc("wave"); // QuickTime sound description extension that may wrap esds
// Handler types (§8.4.3).
export const VIDE = fourcc("vide");
export const SOUN = fourcc("soun");
// Brands (§4.3, §E; ISO/IEC 23000-19 for cmfc).
export const ISO5 = fourcc("iso5");
export const ISO6 = fourcc("iso6");
export const MP41 = fourcc("mp41");
export const CMFC = fourcc("cmfc");

// tfhd flags (§8.8.7.1).
export const TFHD_BASE_DATA_OFFSET = 0x00_0001;
export const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x00_0002;
export const TFHD_DEFAULT_DURATION = 0x00_0008;
export const TFHD_DEFAULT_SIZE = 0x00_0010;
export const TFHD_DEFAULT_FLAGS = 0x00_0020;
/** default-base-is-moof: data offsets count from the moof's first byte, the only base MSE accepts. */
export const TFHD_DEFAULT_BASE_IS_MOOF = 0x02_0000;
// trun flags (§8.8.8.1).
export const TRUN_DATA_OFFSET = 0x001;
export const TRUN_FIRST_SAMPLE_FLAGS = 0x004;
export const TRUN_SAMPLE_DURATION = 0x100;
export const TRUN_SAMPLE_SIZE = 0x200;
export const TRUN_SAMPLE_FLAGS = 0x400;
export const TRUN_SAMPLE_CTO = 0x800;
// Sample flags fields (§8.8.3.1): is_leading(2) depends_on(2) is_depended_on(2) has_redundancy(2)
// padding(3) is_non_sync_sample(1) degradation_priority(16), after 4 reserved bits.
/** sample_depends_on = 1: the sample depends on others (not an I picture). */
export const SAMPLE_DEPENDS_ON_OTHERS = 0x0100_0000;
/** sample_depends_on = 2: the sample depends on no other (an I picture). */
export const SAMPLE_DEPENDS_ON_NONE = 0x0200_0000;
/** sample_is_non_sync_sample. */
export const SAMPLE_IS_NON_SYNC = 0x0001_0000;

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970), for prft (§8.16.5) timestamps. */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
