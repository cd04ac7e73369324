import { u32At } from "../bytes.ts";
import { ParseError } from "../errors.ts";
import { parseMoov } from "../fmp4/moov.ts";
import { buildMime } from "../mime.ts";
import { DEFAULT_PARSER_OPTIONS, type FragmentEvent, type InitEvent, type ParserEvent } from "../types.ts";
import { ntpRoundTripMs, type Sample, SYNC_SAMPLE, type TrackRun, writeFragment } from "./fragment.ts";
import type { CodedFrame, DemuxEvent, TrackConfig } from "./frame.ts";
import { writeInitSegment } from "./init-segment.ts";
import { audioTimescale } from "./sample-entry.ts";
import { checkTracks, sameTracks, type TrackSet } from "./track-configs.ts";
import { SAMPLE_COST, TrackState } from "./track-state.ts";

export interface RemuxerOptions {
  /**
   * `"frame"`: a fragment per video frame, emitted the moment it arrives, with every audio frame
   * that arrived before it (audio-only streams: a fragment per audio frame). `{ ms }`: a fragment once
   * the pending video (audio-only: audio) spans `ms`, cut when the frame that reaches it arrives.
   * Either way a video keyframe always starts a new fragment.
   */
  fragment: "frame" | { ms: number };
  /** Cap on `buffered` and on any codec configuration or init segment (default 32 MiB). */
  maxBufferedBytes?: number;
}

/** Turns a demuxer's elementary frames into the same init/fragment events the fMP4 parser emits. */
export interface Remuxer {
  /** Consumes one demuxer event; returns every event it completes. Throws `ParseError`, then stays failed. */
  push(ev: DemuxEvent): ParserEvent[];
  /** The source is gone: emits the pending samples (their last durations estimated). */
  end(): ParserEvent[];
  /** Bytes held for the next fragment: its samples' bytes plus `SAMPLE_COST` per sample. */
  readonly buffered: number;
  /**
   * Frames dropped: before the first video keyframe of an init, of a kind without a track, or audio a
   * whole frame or more behind the audio already placed (`AudioClock`).
   */
  readonly dropped: number;
  /** Frames whose timestamps were adjusted (a non-increasing video dts; audio snapped more than a source tick). */
  readonly retimed: number;
}

/** With a video track, audio held this long past the fragment length (no video arriving) goes out alone. */
const AUDIO_STALL_MS = 1000;
/** mdat sizes are written in 32 bits; leave room for the moof. */
const MAX_CAP = 0xffff_ffff - 16 * 1024 * 1024;

/**
 * Creates a remuxer: the fMP4 writer for sources that are not fMP4 (RTMP/FLV, MPEG-TS demuxers).
 *
 * - A `tracks` event whose configuration differs from the current one (`sameTracks`) flushes the
 *   pending samples as a fragment of the old init, then emits a new `InitEvent` (track ids: video 1,
 *   audio 2, or audio 1 alone); an identical one is ignored. Its `tracks`/`mime` come from the fMP4
 *   parser's own moov reader run over the written bytes.
 * - Frames before the first video keyframe after an init are dropped (audio included), as are frames
 *   of a kind the init has no track for; both are counted in `dropped`. A frame before any `tracks`
 *   event is `fragment-before-init`.
 * - Sample durations are the dts differences within a track; the last sample of a fragment ends at
 *   the next frame of its track when that has arrived, else at an estimate (`TrackState.estimatedEnd`:
 *   audio its own length, video the previous interval); the next fragment's tfdt is exact, and MSE
 *   tolerates the small overlap or gap.
 * - Each FragmentEvent describes its video run (else its audio run, as the parser does): keyframe iff
 *   its first video sample is a sync sample and syncPoint iff any is (both always true for audio-only
 *   streams, false for a fragment without video in a stream with video), decodeTime/timescale/duration,
 *   start (earliest tfdt of all runs, seconds), mfhd sequence (counting up across inits), and the
 *   `prft` it carries: the run's first sample's arrival time and presentation time (dts + cto).
 * - With a video track, audio that piles up `AUDIO_STALL_MS` beyond the fragment length without video
 *   goes out in a fragment of its own.
 * - `buffered` (sample bytes + `SAMPLE_COST` per sample) above `maxBufferedBytes` is `too-large`.
 */
export function createRemuxer(options: RemuxerOptions): Remuxer {
  const max = options.maxBufferedBytes ?? DEFAULT_PARSER_OPTIONS.maxElementBytes;
  if (!Number.isInteger(max) || max <= 0 || max > MAX_CAP)
    throw new RangeError(`maxBufferedBytes ${max} is not an integer in 1..${MAX_CAP}`);
  const frameMode = options.fragment === "frame";
  const ms = options.fragment === "frame" ? 0 : options.fragment.ms;
  if (!frameMode && !(Number.isFinite(ms) && ms > 0)) throw new RangeError(`fragment ms ${ms} is not a positive number`);

  let set: TrackSet | undefined;
  let video: TrackState | undefined;
  let audio: TrackState | undefined;
  /** Whether the current init's first video keyframe has arrived (always, without video). */
  let started = false;
  let sequence = 0;
  let dropped = 0;
  let retiredRetimed = 0;
  let failed: ParseError | undefined;

  const ticks = (state: TrackState, milliseconds: number) => (milliseconds * state.timescale) / 1000;

  function onTracks(tracks: TrackConfig[], events: ParserEvent[]): void {
    const next = checkTracks(tracks, max);
    if (set && sameTracks(set, next)) return;
    flush(events);
    retiredRetimed += (video?.retimed ?? 0) + (audio?.retimed ?? 0);
    set = next;
    video = next.video && new TrackState(1, next.video, next.video.timescale);
    audio = next.audio && new TrackState(video ? 2 : 1, next.audio, audioTimescale(next.audio));
    started = !video;
    events.push(makeInit());
  }

  function makeInit(): InitEvent {
    const tracks = [video, audio].filter((t) => t !== undefined).map((t) => ({ id: t.id, config: t.config, timescale: t.timescale }));
    const bytes = writeInitSegment(tracks);
    if (bytes.byteLength > max) throw new ParseError("too-large", `init segment of ${bytes.byteLength} bytes, over the ${max}-byte limit`);
    const ftypSize = u32At(bytes, 0);
    const movie = parseMoov(bytes, ftypSize + 8, bytes.byteLength);
    return { type: "init", format: "fmp4", bytes, mime: buildMime("fmp4", movie.tracks), tracks: movie.tracks };
  }

  /** Refuses a sample that would take the held bytes over the cap. */
  function reserve(frame: CodedFrame): void {
    const held = (video?.pendingBytes ?? 0) + (audio?.pendingBytes ?? 0);
    const size = frame.data.byteLength + SAMPLE_COST;
    if (held + size > max)
      throw new ParseError("too-large", `${held} buffered bytes and a ${frame.kind} frame costing ${size}, over the ${max}-byte limit`);
  }

  function onFrame(frame: CodedFrame, events: ParserEvent[]): void {
    if (!set) throw new ParseError("fragment-before-init", "a frame before any tracks event");
    const state = frame?.kind === "video" ? video : frame?.kind === "audio" ? audio : undefined;
    if (!state) {
      dropped++;
      return;
    }
    if (!started) {
      if (state !== video || !frame.keyframe) {
        dropped++;
        return;
      }
      started = true;
    }
    const sample = state.time(frame);
    if (!sample) {
      dropped++;
      return;
    }
    if (state === video) {
      // {ms}: the arriving frame closes the fragment, so every pending sample's duration is exact.
      const first = video.pending[0];
      if (first && (frame.keyframe || sample.dts - first.dts >= ticks(video, ms))) flush(events, sample.dts);
      reserve(frame);
      video.append(sample);
      if (frameMode) flush(events);
    } else if (!video) {
      const first = state.pending[0];
      if (first && !frameMode && sample.dts - first.dts >= ticks(state, ms)) flush(events, undefined, sample.dts);
      reserve(frame);
      state.append(sample);
      if (frameMode) flush(events);
    } else {
      reserve(frame);
      state.append(sample);
      if (state.estimatedEnd() - state.pending[0]!.dts >= ticks(state, ms + AUDIO_STALL_MS)) flush(events);
    }
  }

  /**
   * Emits the pending samples as one fragment. `videoNext`: dts of the video frame that arrived and
   * starts the next fragment; audio from that time on stays pending (`{ms}` mode). `audioNext`: the
   * same for an audio-only stream.
   */
  function flush(events: ParserEvent[], videoNext?: number, audioNext?: number): void {
    const runs: Array<{ state: TrackState; run: TrackRun }> = [];
    if (video && video.pending.length > 0) {
      const samples = video.take(video.pending.length);
      runs.push({ state: video, run: { trackId: video.id, samples, endDts: videoNext ?? video.estimatedEnd() } });
    }
    if (audio && audio.pending.length > 0) {
      let n = audio.pending.length;
      if (videoNext !== undefined) {
        // Interleave by time: audio that starts at or after the cut belongs to the next fragment.
        const cut = videoNext / video!.timescale;
        while (n > 0 && audio.pending[n - 1]!.dts / audio.timescale >= cut) n--;
      }
      if (n > 0) {
        const rest = audio.pending[n];
        const samples = audio.take(n);
        runs.push({ state: audio, run: { trackId: audio.id, samples, endDts: rest?.dts ?? audioNext ?? audio.estimatedEnd() } });
      }
    }
    if (runs.length > 0) events.push(makeFragment(runs));
  }

  function makeFragment(runs: Array<{ state: TrackState; run: TrackRun }>): FragmentEvent {
    const main = runs[0]!;
    const first: Sample = main.run.samples[0]!;
    sequence++;
    // prft media_time is the first sample's presentation time (ISO/IEC 14496-12 §8.16.5 relates it to
    // the track's media timeline; the player compares it with presentation times, so with B-frames the
    // decode time would under-state e2e latency by the composition offset).
    const prft = Number.isFinite(first.arrivalMs)
      ? { trackId: main.state.id, wallclockMs: first.arrivalMs, mediaTime: Math.max(0, first.dts + first.cto) }
      : undefined;
    const { bytes, durations } = writeFragment(
      sequence,
      runs.map((r) => r.run),
      prft,
    );
    const videoRun = main.state === video ? main.run : undefined;
    const event: FragmentEvent = {
      type: "fragment",
      bytes,
      keyframe: video ? first.flags === SYNC_SAMPLE && videoRun !== undefined : true,
      syncPoint: video ? videoRun?.samples.some((s) => s.flags === SYNC_SAMPLE) === true : true,
      decodeTime: first.dts,
      timescale: main.state.timescale,
      start: Math.min(...runs.map((r) => r.run.samples[0]!.dts / r.state.timescale)),
      duration: durations[0]!,
      sequence,
    };
    if (prft) {
      event.prftWallclockMs = ntpRoundTripMs(prft.wallclockMs);
      event.prftMediaTime = prft.mediaTime;
    }
    return event;
  }

  function guarded(fn: (events: ParserEvent[]) => void): ParserEvent[] {
    if (failed) throw failed;
    const events: ParserEvent[] = [];
    try {
      fn(events);
    } catch (e) {
      if (e instanceof ParseError) failed = e;
      throw e;
    }
    return events;
  }

  return {
    get buffered() {
      return (video?.pendingBytes ?? 0) + (audio?.pendingBytes ?? 0);
    },
    get dropped() {
      return dropped;
    },
    get retimed() {
      return retiredRetimed + (video?.retimed ?? 0) + (audio?.retimed ?? 0);
    },
    push(ev: DemuxEvent): ParserEvent[] {
      return guarded((events) => {
        if (ev?.type === "tracks") onTracks(ev.tracks, events);
        else if (ev?.type === "frame") onFrame(ev.frame, events);
        else if (ev?.type === "end-of-stream") flush(events);
        else throw new ParseError("malformed", "an unknown demux event");
      });
    },
    end(): ParserEvent[] {
      return guarded((events) => flush(events));
    },
  };
}
