import { readAudioSpecificConfig } from "../codec/aac.ts";
import { OPUS_SAMPLE_RATE, readOpusHead } from "../codec/opus.ts";
import { AV1C, AV01, AVC1, AVCC, HVC1, HVCC, MP4A, OPUS, VP09, VPCC } from "../fmp4/box-types.ts";
import { writeDops, writeEsds } from "./audio-config.ts";
import type { BoxWriter } from "./box-writer.ts";
import type { AudioCodec, AudioTrackConfig, VideoCodec, VideoTrackConfig } from "./frame.ts";

/** Sample entry fourcc and configuration box type per video codec (the record is written as is). */
const VIDEO_ENTRIES: Record<VideoCodec, { entry: number; config: number }> = {
  avc: { entry: AVC1, config: AVCC },
  hevc: { entry: HVC1, config: HVCC },
  av1: { entry: AV01, config: AV1C },
  vp9: { entry: VP09, config: VPCC },
};

/** Fixed-point 72 dpi, the §12.1.3.2 template value for horizresolution/vertresolution. */
const DPI_72 = 0x0048_0000;

/**
 * Writes a VisualSampleEntry (ISO/IEC 14496-12 §12.1.3.2) for `config`: `avc1`+`avcC`, `hvc1`+`hvcC`
 * (parameter sets only in the record), `av01`+`av1C`, or `vp09`+`vpcC` (a FullBox, version 1,
 * VP-ISOBMFF §2.2). The caller has checked width and height fit 16 bits.
 */
export function writeVideoEntry(w: BoxWriter, config: VideoTrackConfig): void {
  const { entry, config: configType } = VIDEO_ENTRIES[config.codec];
  const box = w.begin(entry);
  w.zeros(6); // SampleEntry reserved
  w.u16(1); // data_reference_index
  w.zeros(16); // pre_defined, reserved, pre_defined[3]
  w.u16(config.width);
  w.u16(config.height);
  w.u32(DPI_72);
  w.u32(DPI_72);
  w.u32(0); // reserved
  w.u16(1); // frame_count
  w.zeros(32); // compressorname: empty Pascal string
  w.u16(0x0018); // depth: colour, no alpha
  w.u16(0xffff); // pre_defined = -1
  const inner = config.codec === "vp9" ? w.beginFull(configType, 1, 0) : w.begin(configType);
  w.data(config.record);
  w.end(inner);
  w.end(box);
}

/**
 * Media timescale of an audio track: the rate its samples are counted in. Opus: 48000 (Opus-ISOBMFF
 * §4.3). AAC: the AudioSpecificConfig's rate (the core rate for implicitly signalled HE-AAC), else,
 * when it states none, the track's `sampleRate`.
 */
export function audioTimescale(config: AudioTrackConfig): number {
  if (config.codec === "opus") return OPUS_SAMPLE_RATE;
  return readAudioSpecificConfig(config.config)?.sampleRate || config.sampleRate;
}

/**
 * Writes an AudioSampleEntry (ISO/IEC 14496-12 §12.2.3.2): `mp4a`+`esds` (ISO/IEC 14496-14 §5.6) or
 * `Opus`+`dOps` (Opus-ISOBMFF §4.3, channel count from the OpusHead, samplerate 48000). The 16.16
 * samplerate field is 0 for rates above 65535, as ffmpeg writes them; the media timescale carries
 * the real one. Throws `malformed` for a bad OpusHead.
 */
export function writeAudioEntry(w: BoxWriter, config: AudioTrackConfig): void {
  const opus = config.codec === "opus" ? readOpusHead(config.config) : undefined;
  const rate = audioTimescale(config);
  const box = w.begin(ENTRY_BY_CODEC[config.codec]);
  w.zeros(6); // SampleEntry reserved
  w.u16(1); // data_reference_index
  w.zeros(8); // reserved[2]
  w.u16(opus ? opus.channels : config.channels);
  w.u16(16); // samplesize
  w.u32(0); // pre_defined, reserved
  w.u32(rate <= 0xffff ? rate * 0x1_0000 : 0);
  if (opus) writeDops(w, opus);
  else writeEsds(w, config.config);
  w.end(box);
}

const ENTRY_BY_CODEC: Record<AudioCodec, number> = { aac: MP4A, opus: OPUS };
