/**
 * Elementary frames: what every demuxer of a non-fMP4 source (RTMP/FLV, MPEG-TS) produces and the fMP4
 * writer consumes. Pure types: no runtime imports.
 */

/** Video codecs the remuxer can write (their decoder configuration record is `record`). */
export type VideoCodec = "avc" | "hevc" | "av1" | "vp9";
/** Audio codecs the remuxer can write. */
export type AudioCodec = "aac" | "opus";

/** A video track's codec configuration, as the decoder needs it. */
export interface VideoTrackConfig {
  kind: "video";
  codec: VideoCodec;
  /**
   * The decoder configuration record, written as is into the sample entry: AVCDecoderConfigurationRecord
   * (`avcC`, ISO/IEC 14496-15 §5.3.3), HEVCDecoderConfigurationRecord (`hvcC`, §8.3.3),
   * AV1CodecConfigurationRecord (`av1C`, AV1-ISOBMFF §2.3), VPCodecConfigurationRecord (`vpcC` payload
   * after its version/flags, VP9-ISOBMFF §2.2).
   */
  record: Uint8Array;
  /** Coded picture size in pixels (from the SPS / sequence header, else the publisher's metadata). */
  width: number;
  height: number;
  /** Ticks per second of `dts`/`pts` (RTMP: 1000; MPEG-TS: 90000). */
  timescale: number;
}

/** An audio track's codec configuration. */
export interface AudioTrackConfig {
  kind: "audio";
  codec: AudioCodec;
  /** AAC: AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). Opus: the `OpusHead` of RFC 7845 §5.1 (dOps is built from it). */
  config: Uint8Array;
  /**
   * Samples per second. The remuxer's output timescale is the AudioSpecificConfig's rate for AAC
   * (this only when the config states none) and 48000 for Opus (RFC 7845 §4).
   */
  sampleRate: number;
  channels: number;
  /**
   * Ticks per second of `dts`/`pts` (usually the sample rate or the source clock). Audio is re-timed
   * to its sample rate in whole frames (see `remux/audio-clock.ts`), so millisecond stamps are fine.
   */
  timescale: number;
}

export type TrackConfig = VideoTrackConfig | AudioTrackConfig;

/** One coded frame (access unit) of one track. */
export interface CodedFrame {
  kind: "video" | "audio";
  /** Decode time in the track's `timescale` ticks, monotonic per track (the demuxer unwraps 2^32 ms / 2^33 ticks). */
  dts: number;
  /** Presentation time in the same ticks (`pts - dts` is the composition offset; may be negative only for B-frame streams with edit quirks). */
  pts: number;
  /** A random access point (IDR / IRAP / AV1 key frame / VP9 key frame); always true for audio. */
  keyframe: boolean;
  /**
   * The sample bytes as the fMP4 sample needs them: H.264/H.265 as 4-byte length-prefixed NAL units
   * (AUD, filler and parameter sets removed), AV1 as low-overhead OBUs without temporal delimiters,
   * VP9 as is, AAC raw (no ADTS header), Opus raw packets.
   */
  data: Uint8Array;
  /** Wallclock (ms since the Unix epoch) when the frame's last byte arrived; becomes the fragment's `prft`. */
  arrivalMs: number;
}

/**
 * What a demuxer emits, in order: a `tracks` event whenever the set of tracks or any codec
 * configuration changes (the first one before any frame; a change means a new init segment), then frames.
 */
export type DemuxEvent = { type: "tracks"; tracks: TrackConfig[] } | { type: "frame"; frame: CodedFrame } | { type: "end-of-stream" };
