import { AAC_FRAME_SAMPLES } from "../codec/aac.ts";
import { opusPacketSamples } from "../codec/opus.ts";
import { ParseError } from "../errors.ts";
import { AudioClock } from "./audio-clock.ts";
import { NON_SYNC_SAMPLE, type Sample, SYNC_SAMPLE } from "./fragment.ts";
import type { CodedFrame, TrackConfig } from "./frame.ts";

/**
 * What a pending sample costs beyond its bytes (its trun entry and bookkeeping, roughly), counted so
 * that a flood of empty frames is capped like a flood of large ones.
 */
export const SAMPLE_COST = 64;
/** Frame rate assumed for the duration of a video track's very first sample when nothing better is known. */
const ASSUMED_FPS = 30;
/** What an Opus packet that cannot state its length (empty, or a broken code 3) counts as: 20 ms, the usual frame. */
const OPUS_FALLBACK_SAMPLES = 960;
const I32_MIN = -0x8000_0000;
const I32_MAX = 0x7fff_ffff;

/**
 * One output track between init segments: its id and media timescale, the samples waiting for a
 * fragment, and what is needed to time them.
 *
 * - Video keeps the source timescale (RTMP 1000, MPEG-TS 90000): timestamps pass through unchanged,
 *   except that a dts not above the previous one is moved just past it (counted in `retimed`).
 * - Audio is counted in samples (timescale = sample rate; Opus 48000) through an `AudioClock`, with
 *   each frame's own length (AAC 1024, Opus from its TOC, 20 ms when the TOC cannot say) as its
 *   nominal duration.
 */
export class TrackState {
  readonly pending: Sample[] = [];
  /** Memory the pending samples stand for: their bytes plus `SAMPLE_COST` each. */
  pendingBytes = 0;
  retimed = 0;
  private lastDts = -1;
  /** Last dts difference of a video track, at most one second: the duration guess for its newest sample. */
  private lastDelta: number | undefined;
  /** Nominal length of the newest audio frame. */
  private lastSamples = 0;
  private readonly clock: AudioClock | undefined;

  constructor(
    readonly id: number,
    readonly config: TrackConfig,
    readonly timescale: number,
  ) {
    this.clock = config.kind === "audio" ? new AudioClock(config.timescale, timescale) : undefined;
  }

  /**
   * Times `frame` in this track's timescale (the sample is not pending yet: see `append`); undefined
   * for an audio frame the clock drops (see `AudioClock`). Throws `malformed` for a dts that is not a
   * finite non-negative number or a composition offset outside 32 bits.
   */
  time(frame: CodedFrame): Sample | undefined {
    if (!(frame.data instanceof Uint8Array)) throw new ParseError("malformed", "a frame without bytes");
    if (!Number.isFinite(frame.dts) || frame.dts < 0 || frame.dts > Number.MAX_SAFE_INTEGER || !Number.isFinite(frame.pts)) {
      throw new ParseError("malformed", `a ${frame.kind} frame with dts ${frame.dts}, pts ${frame.pts}`);
    }
    const sample = this.clock !== undefined ? this.timeAudio(frame, this.clock) : this.timeVideo(frame);
    if (sample && (sample.cto < I32_MIN || sample.cto > I32_MAX))
      throw new ParseError("malformed", `composition offset ${sample.cto} does not fit 32 bits`);
    return sample;
  }

  /** Adds a sample from `time` to `pending`. */
  append(sample: Sample): void {
    this.pending.push(sample);
    this.pendingBytes += sample.data.byteLength + SAMPLE_COST;
  }

  private timeVideo(frame: CodedFrame): Sample {
    let dts = Math.round(frame.dts);
    if (dts <= this.lastDts) {
      dts = this.lastDts + 1;
      this.retimed++;
    }
    if (this.lastDts >= 0 && dts - this.lastDts <= this.timescale) this.lastDelta = dts - this.lastDts;
    this.lastDts = dts;
    return {
      dts,
      cto: Math.round(frame.pts) - dts,
      data: frame.data,
      flags: frame.keyframe ? SYNC_SAMPLE : NON_SYNC_SAMPLE,
      arrivalMs: frame.arrivalMs,
    };
  }

  private timeAudio(frame: CodedFrame, clock: AudioClock): Sample | undefined {
    const samples = this.config.codec === "opus" ? opusPacketSamples(frame.data) || OPUS_FALLBACK_SAMPLES : AAC_FRAME_SAMPLES;
    const before = clock.retimed;
    const dts = clock.place(frame.dts, samples);
    this.retimed += clock.retimed - before;
    if (dts === undefined) return undefined;
    this.lastDts = dts;
    this.lastSamples = samples;
    return {
      dts,
      cto: Math.round(((frame.pts - frame.dts) * this.timescale) / this.config.timescale),
      data: frame.data,
      flags: SYNC_SAMPLE,
      arrivalMs: frame.arrivalMs,
    };
  }

  /**
   * Where the newest sample ends when the next one is not known yet: audio after its own length,
   * video after the previous frame interval (at most a second; 1/30 s for a first frame). An estimate:
   * the next fragment's tfdt states the real time.
   */
  estimatedEnd(): number {
    if (this.clock) return this.lastDts + this.lastSamples;
    return this.lastDts + (this.lastDelta ?? Math.max(1, Math.round(this.timescale / ASSUMED_FPS)));
  }

  /** Removes and returns the first `n` pending samples. */
  take(n: number): Sample[] {
    const out = n === this.pending.length ? this.pending.splice(0) : this.pending.splice(0, n);
    for (const s of out) this.pendingBytes -= s.data.byteLength + SAMPLE_COST;
    return out;
  }
}
