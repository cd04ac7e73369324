import { u32At } from "../bytes.ts";
import { OPUS_DESCRIPTOR_EXTENSION, OPUS_REGISTRATION, opusChannels } from "../codec/opus-ts.ts";
import { descriptors, type PmtStream } from "./psi.ts";

/** stream_type values (ISO/IEC 13818-1 Table 2-34, plus the ATSC / common private ones seen in the wild). */
const STREAM_TYPE = {
  MPEG1_VIDEO: 0x01,
  MPEG2_VIDEO: 0x02,
  MPEG1_AUDIO: 0x03,
  MPEG2_AUDIO: 0x04,
  PRIVATE_PES: 0x06,
  AAC_ADTS: 0x0f,
  MPEG4_VISUAL: 0x10,
  AAC_LATM: 0x11,
  METADATA_PES: 0x15,
  H264: 0x1b,
  MPEG4_AUDIO_RAW: 0x1c,
  H265: 0x24,
  VVC: 0x33,
  AVS2: 0x42,
  AC3: 0x81,
  DTS: 0x82,
  TRUEHD: 0x83,
  EAC3_ALT: 0x84,
  DTS_HD: 0x85,
  EAC3: 0x87,
  VC1: 0xea,
} as const;

/** Descriptor tags (§2.6.1; ETSI EN 300 468 §6.1 for the DVB ones). */
const DESCRIPTOR_REGISTRATION = 0x05;
const DESCRIPTOR_AC3 = 0x6a;
const DESCRIPTOR_EAC3 = 0x7a;
const DESCRIPTOR_DTS = 0x7b;
const DESCRIPTOR_EXTENSION = 0x7f;

const NAMES = new Map<number, string>([
  [0x01, "MPEG-1 video"],
  [0x02, "MPEG-2 video"],
  [0x03, "MPEG-1 audio"],
  [0x04, "MPEG-2 audio"],
  [0x0f, "AAC in ADTS"],
  [0x10, "MPEG-4 part 2 video"],
  [0x11, "AAC in LATM"],
  [0x1b, "H.264"],
  [0x1c, "MPEG-4 audio without transport syntax"],
  [0x24, "H.265"],
  [0x33, "H.266/VVC"],
  [0x42, "AVS2"],
  [0x81, "AC-3"],
  [0x82, "DTS"],
  [0x83, "Dolby TrueHD"],
  [0x84, "E-AC-3"],
  [0x85, "DTS-HD"],
  [0x87, "E-AC-3"],
  [0xea, "VC-1"],
]);
const VIDEO_TYPES = new Set([0x01, 0x02, 0x10, 0x33, 0x42, 0xea]);
const AUDIO_TYPES = new Set([0x03, 0x04, 0x11, 0x1c, 0x81, 0x82, 0x83, 0x84, 0x85, 0x87]);
/** Registration format_identifiers of private (0x06) streams that are audio/video we cannot pass on. */
const PRIVATE_MEDIA = new Map<number, [kind: "video" | "audio", name: string]>([
  [0x41432d33, ["audio", "AC-3"]], // 'AC-3'
  [0x45414333, ["audio", "E-AC-3"]], // 'EAC3'
  [0x44545331, ["audio", "DTS"]],
  [0x44545332, ["audio", "DTS"]],
  [0x44545333, ["audio", "DTS"]], // 'DTS1'..'DTS3'
  [0x41563031, ["video", "AV1 in MPEG-TS, not supported here"]], // 'AV01'
  [0x56432d31, ["video", "VC-1"]], // 'VC-1'
]);

/** What a PMT entry is to this demuxer. */
export type StreamClass =
  | { kind: "video"; codec: "avc" | "hevc" }
  /** `sniffed`: a private stream with no descriptor at all, taken for ADTS if its first PES starts with an ADTS header (ffmpeg's M2TS mode writes AAC so). */
  | { kind: "audio"; codec: "aac"; sniffed?: boolean }
  | { kind: "audio"; codec: "opus"; channelConfigCode: number }
  /** Audio or video that browsers' MediaSource cannot play (or this demuxer cannot carry); `why` names it. */
  | { kind: "unplayable"; media: "video" | "audio"; why: string }
  /** Data, subtitles, metadata, unknown private streams: not media. */
  | { kind: "other" };

/** "stream type 0x02 (MPEG-2 video)". */
function describeStreamType(type: number): string {
  const name = NAMES.get(type);
  return `stream type 0x${type.toString(16).padStart(2, "0")}${name ? ` (${name})` : ""}`;
}

/** Sorts a PMT entry into playable video/audio, unplayable media, or other data. */
export function classifyStream(s: PmtStream): StreamClass {
  switch (s.streamType) {
    case STREAM_TYPE.H264:
      return { kind: "video", codec: "avc" };
    case STREAM_TYPE.H265:
      return { kind: "video", codec: "hevc" };
    case STREAM_TYPE.AAC_ADTS:
      return { kind: "audio", codec: "aac" };
    case STREAM_TYPE.PRIVATE_PES:
      return classifyPrivate(s);
  }
  const cannot = `${describeStreamType(s.streamType)} cannot be played by browsers`;
  if (VIDEO_TYPES.has(s.streamType)) return { kind: "unplayable", media: "video", why: cannot };
  if (AUDIO_TYPES.has(s.streamType)) return { kind: "unplayable", media: "audio", why: cannot };
  return { kind: "other" };
}

/** A PES_private_data stream (0x06): Opus, or another codec told by its descriptors. */
function classifyPrivate(s: PmtStream): StreamClass {
  let registration: number | undefined;
  let opusCode: number | undefined;
  let dolbyOrDts: string | undefined;
  for (const d of descriptors(s.descriptors)) {
    if (d.tag === DESCRIPTOR_REGISTRATION && d.body.byteLength >= 4) {
      registration = u32At(d.body, 0);
    } else if (d.tag === DESCRIPTOR_EXTENSION && d.body.byteLength >= 2 && d.body[0] === OPUS_DESCRIPTOR_EXTENSION) {
      opusCode = d.body[1]!;
    } else if (d.tag === DESCRIPTOR_AC3) dolbyOrDts = "AC-3";
    else if (d.tag === DESCRIPTOR_EAC3) dolbyOrDts = "E-AC-3";
    else if (d.tag === DESCRIPTOR_DTS) dolbyOrDts = "DTS";
  }
  const type = describeStreamType(s.streamType);
  if (registration === OPUS_REGISTRATION) {
    // Without the Opus audio descriptor the stream is stereo (the draft's default channel_config_code 2).
    const code = opusCode ?? 2;
    if (opusChannels(code) === undefined) {
      return { kind: "unplayable", media: "audio", why: `${type} Opus with channel_config_code 0x${code.toString(16)} is not supported` };
    }
    return { kind: "audio", codec: "opus", channelConfigCode: code };
  }
  const known = registration === undefined ? undefined : PRIVATE_MEDIA.get(registration);
  if (known) return { kind: "unplayable", media: known[0], why: `${type} (${known[1]}) cannot be played by browsers` };
  if (dolbyOrDts) return { kind: "unplayable", media: "audio", why: `${type} (${dolbyOrDts}) cannot be played by browsers` };
  if (s.descriptors.byteLength === 0) return { kind: "audio", codec: "aac", sniffed: true };
  return { kind: "other" };
}
