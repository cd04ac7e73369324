import { hex2, Reader } from "../reader.ts";
import { AV1C, AVCC, ESDS, fourccName, HVCC, VPCC, WAVE } from "./box-types.ts";
import { type BoxRange, childBoxes, findBox, fits } from "./boxes.ts";
import { mp4aChannels, mp4aCodecString } from "./esds.ts";

/** What a sample entry tells about its track. */
export interface SampleEntryInfo {
  /** The sample entry fourcc, e.g. `avc1`. */
  codecId: string;
  /** RFC 6381 codec string; "" when it cannot be built. */
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

// Sizes below count from the end of the box header.
// Fixed part of SampleEntry (6 reserved bytes + data_reference_index), ISO/IEC 14496-12 §8.5.2.2.
const SAMPLE_ENTRY_HEADER = 8;
// VisualSampleEntry: SampleEntry + 16 bytes of pre_defined/reserved, width, height, resolutions,
// reserved, frame_count, compressorname[32], depth, pre_defined (§12.1.3.2): 78 in total.
const VISUAL_ENTRY_HEADER = 78;
// AudioSampleEntry: SampleEntry + reserved[2] + channelcount + samplesize + pre_defined + reserved +
// samplerate (§12.2.3.2): 28 in total.
const AUDIO_ENTRY_HEADER = 28;

/**
 * Reads the sample entry `entry` (a box inside `bytes`) of a track whose handler is `handler` (`vide`
 * → VisualSampleEntry, `soun` → AudioSampleEntry, others: only the fourcc). `stsdVersion` is the
 * version of the enclosing stsd, needed to tell QuickTime sound description versions from ISO
 * AudioSampleEntryV1. Throws `malformed` when the entry's structure contradicts its size.
 */
export function readSampleEntry(bytes: Uint8Array, entry: BoxRange, handler: string, stsdVersion: number): SampleEntryInfo {
  const codecId = fourccName(entry.type);
  const r = new Reader(bytes, entry.start);
  if (handler === "vide") {
    fits(r, entry, VISUAL_ENTRY_HEADER);
    r.skip(SAMPLE_ENTRY_HEADER + 16);
    const width = r.u16();
    const height = r.u16();
    const children = childBoxes(r, entry.start + VISUAL_ENTRY_HEADER, entry.end);
    return { codecId, codec: codecString(codecId, r, children), width, height };
  }
  if (handler === "soun") {
    fits(r, entry, AUDIO_ENTRY_HEADER);
    r.skip(SAMPLE_ENTRY_HEADER);
    const soundVersion = r.u16();
    r.skip(6);
    let channels = r.u16();
    r.skip(6);
    let sampleRate = r.u32() >>> 16; // 16.16 fixed point
    let headerSize = AUDIO_ENTRY_HEADER;
    if (stsdVersion === 0 && soundVersion === 1) {
      // QuickTime SoundDescription v1 (QTFF "Sound Sample Description (Version 1)"): 4 more u32 fields.
      headerSize += 16;
    } else if (stsdVersion === 0 && soundVersion === 2) {
      // QuickTime SoundDescription v2: sizeOfStructOnly, float64 rate, channel count and 5 more u32.
      headerSize += 36;
      r.pos = entry.start;
      fits(r, entry, headerSize);
      r.skip(AUDIO_ENTRY_HEADER + 4);
      sampleRate = r.float(8);
      channels = r.u32();
    }
    r.pos = entry.start;
    fits(r, entry, headerSize);
    const children = childBoxes(r, entry.start + headerSize, entry.end);
    const esds = codecId === "mp4a" ? findEsds(r, children) : undefined;
    channels = (esds && mp4aChannels(esds)) ?? channels;
    return { codecId, codec: codecString(codecId, r, children), sampleRate, channels };
  }
  return { codecId, codec: codecString(codecId, r, []) };
}

/** esds of an mp4a entry, directly or inside a QuickTime `wave` box (QTFF "Sound Sample Description"). */
function findEsds(r: Reader, children: BoxRange[]): Uint8Array | undefined {
  const wave = findBox(children, WAVE);
  const esds = findBox(children, ESDS) ?? (wave && findBox(childBoxes(r, wave.start, wave.end), ESDS));
  return esds && r.bytes.subarray(esds.start, esds.end);
}

function codecString(codecId: string, r: Reader, children: BoxRange[]): string {
  const config = (type: number) => {
    const box = findBox(children, type);
    return box && r.bytes.subarray(box.start, box.end);
  };
  switch (codecId) {
    case "avc1":
    case "avc2":
    case "avc3":
    case "avc4": {
      const avcC = config(AVCC);
      return avcC ? avcCodecString(codecId, avcC) : "";
    }
    case "hvc1":
    case "hev1": {
      const hvcC = config(HVCC);
      return hvcC ? hevcCodecString(codecId, hvcC) : "";
    }
    case "av01": {
      const av1C = config(AV1C);
      return av1C ? av1CodecString(av1C) : "";
    }
    case "vp08":
    case "vp09": {
      const vpcC = config(VPCC);
      return vpcC ? vpCodecString(codecId, vpcC) : "";
    }
    case "mp4a": {
      const esds = findEsds(r, children);
      return esds ? mp4aCodecString(esds) : "";
    }
    case "Opus":
      return "opus";
    case "fLaC":
      return "flac";
    default:
      // Encrypted (encv/enca) or unknown entries: the fourcc itself when it can stand in a codecs list.
      return /^[0-9A-Za-z][0-9A-Za-z._-]{3}$/.test(codecId) ? codecId : "";
  }
}

/**
 * `avc1.PPCCLL` from an avcC payload (ISO/IEC 14496-15 §5.3.3.1: bytes 1–3 are profile_idc,
 * constraint flags, level_idc), keeping the sample entry name (`avc1`, `avc3`, ...). "" if too short.
 */
export function avcCodecString(entry: string, avcC: Uint8Array): string {
  if (avcC.byteLength < 4) return "";
  return `${entry}.${hex2(avcC[1]!)}${hex2(avcC[2]!)}${hex2(avcC[3]!)}`;
}

/**
 * `hvc1.<space><profile>.<compat>.<tier><level>.<constraints>` from an hvcC payload
 * (ISO/IEC 14496-15 Annex E.3), e.g. `hvc1.1.6.L60.90`. "" if too short.
 */
export function hevcCodecString(entry: string, hvcC: Uint8Array): string {
  if (hvcC.byteLength < 13) return "";
  const r = new Reader(hvcC, 1);
  const b = r.u8();
  const space = ["", "A", "B", "C"][b >> 6]!;
  const tier = b & 0x20 ? "H" : "L";
  const profile = b & 0x1f;
  // E.3: the 32 general_profile_compatibility_flags in reverse bit order, hex without leading zeros.
  const compat = reverseBits32(r.u32()).toString(16).toUpperCase();
  const constraints = [...hvcC.subarray(6, 12)];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  const level = hvcC[12]!;
  return [`${entry}.${space}${profile}`, compat, `${tier}${level}`, ...constraints.map(hex2)].join(".");
}

function reverseBits32(v: number): number {
  let out = 0;
  for (let i = 0; i < 32; i++) {
    out = (out << 1) | (v & 1);
    v >>>= 1;
  }
  return out >>> 0;
}

/**
 * `av01.P.LLT.DD` from an av1C record (AV1-ISOBMFF §2.3.3 and its "Codecs Parameter String"
 * section): seq_profile, two-digit seq_level_idx_0, tier M/H, two-digit bit depth, e.g.
 * `av01.0.04M.08`. Also valid for a WebM V_AV1 CodecPrivate, which is the same record.
 * "" when the record is empty or lacks its marker bit (libaom's empty av1C).
 */
export function av1CodecString(av1C: Uint8Array): string {
  if (av1C.byteLength < 4 || (av1C[0]! & 0x80) === 0) return "";
  const profile = av1C[1]! >> 5;
  const level = av1C[1]! & 0x1f;
  const tier = av1C[2]! & 0x80 ? "H" : "M";
  const highBitdepth = (av1C[2]! & 0x40) !== 0;
  const twelveBit = (av1C[2]! & 0x20) !== 0;
  const depth = highBitdepth ? (twelveBit ? 12 : 10) : 8;
  return `av01.${profile}.${String(level).padStart(2, "0")}${tier}.${String(depth).padStart(2, "0")}`;
}

/**
 * `vp09.PP.LL.DD` (or `vp08...`) from a vpcC payload (VP codec ISO-BMFF binding §2.2: FullBox header,
 * profile, level, bitDepth in the high 4 bits of the next byte). "" if too short.
 */
export function vpCodecString(entry: string, vpcC: Uint8Array): string {
  if (vpcC.byteLength < 7) return "";
  const two = (n: number) => String(n).padStart(2, "0");
  return `${entry}.${two(vpcC[4]!)}.${two(vpcC[5]!)}.${two(vpcC[6]! >> 4)}`;
}
