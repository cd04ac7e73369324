import { equalBytes } from "../bytes.ts";
import { ParseError } from "../errors.ts";
import type { AudioTrackConfig, CodedFrame, DemuxEvent, TrackConfig } from "../remux/frame.ts";
import type { AmfValue } from "./amf0.ts";
import { parseAudioTag } from "./audio-tag.ts";
import { type FlvMetadata, readMetadata } from "./metadata.ts";
import { av1Sample, nalSample } from "./sample-data.ts";
import { TimestampUnwrapper } from "./timestamps.ts";
import { audioTrack, type FlvVideoTrack, videoTrack } from "./track-config.ts";
import { parseVideoTag } from "./video-tag.ts";

export interface FlvDemuxerOptions {
  /** Media time (ms) frames are held waiting for an announced track's config before going on without it. */
  holdMs?: number;
  /** Bytes of frames held meanwhile, at most. */
  maxHeldBytes?: number;
  /** Called once per distinct `code` with a human-readable detail (ignored tracks, codecs, fallbacks). */
  warn?: (code: FlvWarning, detail: string) => void;
}

export type FlvWarning = "extra-track" | "unsupported-audio" | "size-fallback" | "late-track";

/** Counters of what the demuxer dropped or repaired (for logs and tests). */
export interface FlvDemuxerStats {
  videoFrames: number;
  audioFrames: number;
  /** Video frames before the first keyframe after a (new) video config. */
  droppedBeforeKeyframe: number;
  /** Frames of a kind without a config yet (or of another codec than its config). */
  droppedUnconfigured: number;
  /** Packets of a multitrack message's non-primary tracks. */
  extraTrackPackets: number;
  /** Audio packets of a codec Sluice cannot carry. */
  unsupportedAudioPackets: number;
  /** Command frames, metadata packets, sequence ends, silence messages. */
  ignoredPackets: number;
  /** Decode timestamps raised to keep a track strictly increasing. */
  timestampFixes: number;
}

interface Kind {
  unwrap: TimestampUnwrapper;
  lastDts: number | undefined;
  /** The multitrack trackId followed (the first one seen; E-RTMP v2 recommends 0 for the default). */
  trackId: number | undefined;
}

/**
 * FLV audio/video payloads (RTMP media messages or FLV file tags) → DemuxEvents, 1 ms timescale.
 *
 * - A `tracks` event precedes the first frame and every frame after a config change (a sequence header
 *   with other bytes); sequence headers arriving back to back are coalesced into one event.
 * - Video frames before the first keyframe (after each new video config) are dropped.
 * - When onMetaData announced both video and audio, frames are held until both configs are known, at
 *   most `holdMs` of media time / `maxHeldBytes`; then it goes on with what is known.
 * - Timestamps are unwrapped from 32 bits and made strictly increasing per track.
 * - An unsupported video codec is a `ParseError("unknown-codec")`; unsupported audio is dropped (warned).
 *
 * Frame bytes are fresh copies: they pin no message buffer.
 */
export class FlvMediaDemuxer {
  readonly stats: FlvDemuxerStats = {
    videoFrames: 0,
    audioFrames: 0,
    droppedBeforeKeyframe: 0,
    droppedUnconfigured: 0,
    extraTrackPackets: 0,
    unsupportedAudioPackets: 0,
    ignoredPackets: 0,
    timestampFixes: 0,
  };
  private readonly holdMs: number;
  private readonly maxHeldBytes: number;
  private readonly warnFn: FlvDemuxerOptions["warn"];
  private readonly warned = new Set<FlvWarning>();
  private meta: FlvMetadata = { width: 0, height: 0, framerate: 0, hasVideo: false, hasAudio: false };
  private videoTrack: FlvVideoTrack | undefined;
  private audioTrack: AudioTrackConfig | undefined;
  private readonly v: Kind = { unwrap: new TimestampUnwrapper(), lastDts: undefined, trackId: undefined };
  private readonly a: Kind = { unwrap: new TimestampUnwrapper(), lastDts: undefined, trackId: undefined };
  private needKeyframe = true;
  /** The configs in the last `tracks` event (undefined before the first). */
  private emitted: TrackConfig[] | undefined;
  private changed = false;
  private held: CodedFrame[] = [];
  private heldBytes = 0;

  constructor(options: FlvDemuxerOptions = {}) {
    this.holdMs = options.holdMs ?? 1000;
    this.maxHeldBytes = options.maxHeldBytes ?? 8 * 1024 * 1024;
    this.warnFn = options.warn;
  }

  /** The onMetaData argument: announced tracks and the size fallback. Returns nothing to emit. */
  metadata(value: AmfValue): void {
    this.meta = readMetadata(value);
  }

  /** One video message: `timestamp` is the RTMP/FLV 32-bit ms timestamp, `arrivalMs` the wallclock of its last byte. */
  video(timestamp: number, payload: Uint8Array, arrivalMs: number): DemuxEvent[] {
    const out: DemuxEvent[] = [];
    for (const p of parseVideoTag(payload)) {
      if (p.type === "unsupported") throw new ParseError("unknown-codec", `video: ${p.what} (Sluice carries H.264, H.265, AV1 and VP9)`);
      if (!this.primary(this.v, p.trackId)) continue;
      if (p.type === "ignored" || p.type === "end") {
        this.stats.ignoredPackets++;
      } else if (p.type === "config") {
        const track = videoTrack(p.codec, p.record, this.meta, (d) => this.warn("size-fallback", d));
        if (
          !this.videoTrack ||
          !equalBytes(this.videoTrack.config.record, track.config.record) ||
          this.videoTrack.config.codec !== track.config.codec
        ) {
          this.videoTrack = track;
          this.changed = true;
          this.needKeyframe = true;
        }
      } else if (!this.videoTrack || this.videoTrack.config.codec !== p.codec) {
        this.stats.droppedUnconfigured++;
      } else if (this.needKeyframe && !p.keyframe) {
        this.stats.droppedBeforeKeyframe++;
      } else {
        this.needKeyframe = false;
        const data =
          p.codec === "avc" || p.codec === "hevc"
            ? nalSample(p.data, this.videoTrack.lengthSize, p.codec)
            : p.codec === "av1"
              ? av1Sample(p.data)
              : p.data.slice();
        if (data.byteLength === 0) {
          this.stats.ignoredPackets++;
          continue;
        }
        const dts = this.dts(this.v, timestamp);
        this.stats.videoFrames++;
        this.frame(out, { kind: "video", dts, pts: dts + p.cts, keyframe: p.keyframe, data, arrivalMs });
      }
    }
    return out;
  }

  /** One audio message (see `video`). */
  audio(timestamp: number, payload: Uint8Array, arrivalMs: number): DemuxEvent[] {
    const out: DemuxEvent[] = [];
    for (const p of parseAudioTag(payload)) {
      if (p.type === "unsupported") {
        this.stats.unsupportedAudioPackets++;
        this.warn("unsupported-audio", `audio: ${p.what} is not carried (Sluice carries AAC and Opus); going on without audio`);
        continue;
      }
      if (!this.primary(this.a, p.trackId)) continue;
      if (p.type === "ignored" || p.type === "end") {
        this.stats.ignoredPackets++;
      } else if (p.type === "config") {
        const track = audioTrack(p.codec, p.config, p.stereo);
        if (!this.audioTrack || !equalBytes(this.audioTrack.config, track.config) || this.audioTrack.codec !== track.codec) {
          this.audioTrack = track;
          this.changed = true;
        }
      } else if (!this.audioTrack || this.audioTrack.codec !== p.codec) {
        this.stats.droppedUnconfigured++;
      } else if (p.data.byteLength > 0) {
        const dts = this.dts(this.a, timestamp);
        this.stats.audioFrames++;
        this.frame(out, { kind: "audio", dts, pts: dts, keyframe: true, data: p.data.slice(), arrivalMs });
      }
    }
    return out;
  }

  /** The publisher stopped: held frames (with their `tracks` event) and `end-of-stream`. */
  end(): DemuxEvent[] {
    const out: DemuxEvent[] = [];
    if (this.held.length > 0) this.release(out);
    out.push({ type: "end-of-stream" });
    return out;
  }

  /** Whether `trackId` is the followed track of its kind (the first one seen); counts the others. */
  private primary(kind: Kind, trackId: number): boolean {
    kind.trackId ??= trackId;
    if (kind.trackId === trackId) return true;
    this.stats.extraTrackPackets++;
    this.warn("extra-track", `multitrack: only track ${kind.trackId} of each kind is carried; track ${trackId} is dropped`);
    return false;
  }

  private dts(kind: Kind, timestamp: number): number {
    let dts = kind.unwrap.next(timestamp);
    if (kind.lastDts !== undefined && dts <= kind.lastDts) {
      dts = kind.lastDts + 1;
      this.stats.timestampFixes++;
    }
    kind.lastDts = dts;
    return dts;
  }

  private frame(out: DemuxEvent[], f: CodedFrame): void {
    if (this.emitted === undefined) {
      this.held.push(f);
      this.heldBytes += f.data.byteLength;
      const waitingVideo = this.meta.hasVideo && !this.videoTrack;
      const waitingAudio = this.meta.hasAudio && !this.audioTrack;
      if (!waitingVideo && !waitingAudio) return this.release(out);
      const span = f.dts - this.held[0]!.dts;
      if (Math.abs(span) >= this.holdMs || this.heldBytes > this.maxHeldBytes) {
        this.warn(
          "late-track",
          `no ${waitingVideo ? "video" : "audio"} sequence header after ${Math.round(Math.abs(span))} ms of media; going on without it`,
        );
        this.release(out);
      }
      return;
    }
    if (this.changed) this.emitTracks(out);
    out.push({ type: "frame", frame: f });
  }

  private release(out: DemuxEvent[]): void {
    this.emitTracks(out);
    for (const f of this.held) out.push({ type: "frame", frame: f });
    this.held = [];
    this.heldBytes = 0;
  }

  private emitTracks(out: DemuxEvent[]): void {
    const tracks: TrackConfig[] = [];
    if (this.videoTrack) tracks.push(this.videoTrack.config);
    if (this.audioTrack) tracks.push(this.audioTrack);
    this.emitted = tracks;
    this.changed = false;
    out.push({ type: "tracks", tracks });
  }

  private warn(code: FlvWarning, detail: string): void {
    if (this.warned.has(code)) return;
    this.warned.add(code);
    this.warnFn?.(code, detail);
  }
}
