import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";
import type { FragmentEvent, TrackInfo } from "../types.ts";
import {
  MFHD,
  NTP_UNIX_OFFSET_S,
  SAMPLE_IS_NON_SYNC,
  TFDT,
  TFHD,
  TFHD_BASE_DATA_OFFSET,
  TFHD_DEFAULT_DURATION,
  TFHD_DEFAULT_FLAGS,
  TFHD_DEFAULT_SIZE,
  TFHD_SAMPLE_DESCRIPTION_INDEX,
  TRAF,
  TRUN,
  TRUN_DATA_OFFSET,
  TRUN_FIRST_SAMPLE_FLAGS,
  TRUN_SAMPLE_CTO,
  TRUN_SAMPLE_DURATION,
  TRUN_SAMPLE_FLAGS,
  TRUN_SAMPLE_SIZE,
} from "./box-types.ts";
import { type BoxRange, ChildBoxes, openFullBox } from "./boxes.ts";
import type { MovieInfo } from "./moov.ts";

/** What one traf says about its first sample and its length. */
interface TrafInfo {
  track: TrackInfo;
  baseMediaDecodeTime: number | undefined;
  /** Resolved flags of the traf's first sample; undefined when it has no samples. */
  firstSampleFlags: number | undefined;
  /** Sum of sample durations; undefined when some are not stated anywhere. */
  duration: number | undefined;
  /** Some sample of the traf is a sync sample. */
  anySync: boolean;
}

/**
 * Builds the FragmentEvent for `bytes` (one whole fragment). `moof` is the range of its moof payload
 * and `prft` that of an optional prft just before it, both inside `meta`: `bytes` itself or any
 * buffer holding those boxes (the parser passes a view of its input to avoid reading a fresh copy).
 * keyframe: the first sample of the first video traf is a sync sample, resolved by trun
 * first_sample_flags → its per-sample flags → tfhd default_sample_flags → trex default; false when a
 * stream with video has no video sample in the fragment; always true for audio-only streams.
 * syncPoint: some video sample is a sync sample. decodeTime/timescale/duration refer to the video
 * traf, else the first traf; start is the earliest tfdt over all trafs, in seconds. Throws `malformed`
 * for any box that contradicts its size or names a track the moov does not declare.
 */
export function readFragment(
  bytes: Uint8Array,
  meta: Uint8Array,
  moof: BoxRange,
  prft: BoxRange | undefined,
  movie: MovieInfo,
): FragmentEvent {
  const r = new Reader(meta);
  let sequence: number | undefined;
  let main: TrafInfo | undefined;
  let video: TrafInfo | undefined;
  let start = Number.POSITIVE_INFINITY;
  for (const it = new ChildBoxes(r, moof.start, moof.end); it.next(); ) {
    if (it.type === MFHD) {
      openFullBox(r, it, 4);
      sequence = r.u32();
    } else if (it.type === TRAF) {
      const traf = readTraf(r, it, movie);
      if (traf.track.kind === "video") video ??= traf;
      main ??= traf;
      if (traf.baseMediaDecodeTime !== undefined && traf.track.timescale > 0)
        start = Math.min(start, traf.baseMediaDecodeTime / traf.track.timescale);
    }
  }
  if (video) main = video;
  const hasVideo = movie.tracks.some((t) => t.kind === "video");
  const flags = video?.firstSampleFlags;
  const timescale = (main?.track ?? movie.tracks.find((t) => t.kind !== "other"))?.timescale ?? 0;
  const event: FragmentEvent = {
    type: "fragment",
    bytes,
    keyframe: hasVideo ? flags !== undefined && (flags & SAMPLE_IS_NON_SYNC) === 0 : true,
    syncPoint: hasVideo ? video?.anySync === true : true,
    decodeTime: main?.baseMediaDecodeTime ?? 0,
    timescale,
    start: Number.isFinite(start) ? start : Number.NaN,
  };
  if (main?.duration !== undefined) event.duration = main.duration;
  if (sequence !== undefined) event.sequence = sequence;
  if (prft) readPrft(r, prft, movie, event);
  return event;
}

function trackById(movie: MovieInfo, id: number): TrackInfo {
  for (const t of movie.tracks) if (t.id === id) return t;
  throw new ParseError("malformed", `fragment refers to track ${id}, which the moov does not declare`);
}

// Optional tfhd fields in order with their widths (§8.8.7.2).
const TFHD_FIELDS: ReadonlyArray<readonly [flag: number, bytes: number]> = [
  [TFHD_BASE_DATA_OFFSET, 8],
  [TFHD_SAMPLE_DESCRIPTION_INDEX, 4],
  [TFHD_DEFAULT_DURATION, 4],
  [TFHD_DEFAULT_SIZE, 4],
  [TFHD_DEFAULT_FLAGS, 4],
];

function readTraf(r: Reader, traf: BoxRange, movie: MovieInfo): TrafInfo {
  let tfhd: BoxRange | undefined;
  let tfdt: BoxRange | undefined;
  for (const it = new ChildBoxes(r, traf.start, traf.end); it.next(); ) {
    if (it.type === TFHD) tfhd ??= { type: it.type, start: it.start, end: it.end };
    else if (it.type === TFDT) tfdt ??= { type: it.type, start: it.start, end: it.end };
  }
  if (!tfhd) throw new ParseError("malformed", "a traf has no tfhd");

  const { flags } = openFullBox(r, tfhd, 4);
  const track = trackById(movie, r.u32());
  let optional = 0;
  for (const [flag, bytes] of TFHD_FIELDS) if (flags & flag) optional += bytes;
  if (r.pos + optional > tfhd.end) throw new ParseError("malformed", `tfhd with flags ${flags.toString(16)} is too short`);
  if (flags & TFHD_BASE_DATA_OFFSET) r.skip(8);
  if (flags & TFHD_SAMPLE_DESCRIPTION_INDEX) r.skip(4);
  const trex = movie.trex.get(track.id);
  const defaultDuration = flags & TFHD_DEFAULT_DURATION ? r.u32() : trex?.defaultSampleDuration;
  if (flags & TFHD_DEFAULT_SIZE) r.skip(4);
  const defaultFlags = flags & TFHD_DEFAULT_FLAGS ? r.u32() : trex?.defaultSampleFlags;

  const info: TrafInfo = { track, baseMediaDecodeTime: undefined, firstSampleFlags: undefined, duration: 0, anySync: false };
  if (tfdt) {
    const { version } = openFullBox(r, tfdt, version1(r, tfdt) ? 8 : 4);
    info.baseMediaDecodeTime = version === 1 ? r.u64() : r.u32();
  }
  for (const it = new ChildBoxes(r, traf.start, traf.end); it.next(); ) {
    if (it.type === TRUN) readTrun(r, it, info, defaultDuration, defaultFlags);
  }
  return info;
}

/** Whether the FullBox `box` is version 1 (64-bit times); `malformed` if it has no version byte. */
function version1(r: Reader, box: BoxRange): boolean {
  return openFullBox(r, box, 0).version === 1;
}

/** Folds one trun (§8.8.8) into `info`: first-sample flags (if still unknown), whether any sample is sync, durations. */
function readTrun(r: Reader, trun: BoxRange, info: TrafInfo, defaultDuration: number | undefined, defaultFlags: number | undefined): void {
  const { flags } = openFullBox(r, trun, 4);
  const count = r.u32();
  if (flags & TRUN_DATA_OFFSET) r.skip(4);
  const firstFlags = flags & TRUN_FIRST_SAMPLE_FLAGS ? r.u32() : undefined;
  // Per-sample record: duration, size, flags, composition offset, each present by its flag (§8.8.8.2).
  const hasDuration = (flags & TRUN_SAMPLE_DURATION) !== 0;
  const hasSize = (flags & TRUN_SAMPLE_SIZE) !== 0;
  const hasFlags = (flags & TRUN_SAMPLE_FLAGS) !== 0;
  const stride = 4 * (+hasDuration + +hasSize + +hasFlags + +((flags & TRUN_SAMPLE_CTO) !== 0));
  const start = r.pos;
  if (start + count * stride > trun.end)
    throw new ParseError("malformed", `trun declares ${count} samples of ${stride} bytes, more than it holds`);
  if (count === 0) return;

  if (info.firstSampleFlags === undefined) {
    let first = firstFlags;
    if (first === undefined && hasFlags) {
      r.pos = start + (hasDuration ? 4 : 0) + (hasSize ? 4 : 0);
      first = r.u32();
    }
    info.firstSampleFlags = first ?? defaultFlags ?? 0;
  }
  if (!info.anySync) info.anySync = anySyncSample(r, start, count, stride, hasDuration, hasSize, hasFlags, firstFlags, defaultFlags ?? 0);
  if (info.duration === undefined) return;
  if (hasDuration) {
    let sum = 0;
    for (let i = 0; i < count; i++) {
      r.pos = start + i * stride;
      sum += r.u32();
    }
    info.duration += sum;
  } else {
    info.duration = defaultDuration === undefined ? undefined : info.duration + defaultDuration * count;
  }
}

/**
 * Whether some sample of a trun is a sync sample: sample 0 takes first_sample_flags when present,
 * every other sample its own flags, else the tfhd/trex default (§8.8.8.1).
 */
function anySyncSample(
  r: Reader,
  start: number,
  count: number,
  stride: number,
  hasDuration: boolean,
  hasSize: boolean,
  hasFlags: boolean,
  firstFlags: number | undefined,
  defaultFlags: number,
): boolean {
  if (firstFlags !== undefined && (firstFlags & SAMPLE_IS_NON_SYNC) === 0) return true;
  if (!hasFlags) return (firstFlags === undefined || count > 1) && (defaultFlags & SAMPLE_IS_NON_SYNC) === 0;
  const flagsAt = (hasDuration ? 4 : 0) + (hasSize ? 4 : 0);
  for (let i = firstFlags === undefined ? 0 : 1; i < count; i++) {
    r.pos = start + i * stride + flagsAt;
    if ((r.u32() & SAMPLE_IS_NON_SYNC) === 0) return true;
  }
  return false;
}

/** prft (§8.16.5): NTP wallclock as ms since the Unix epoch, media time converted to the event's timescale. */
function readPrft(r: Reader, prft: BoxRange, movie: MovieInfo, event: FragmentEvent): void {
  const { version } = openFullBox(r, prft, version1(r, prft) ? 20 : 16);
  const ref = trackById(movie, r.u32());
  const seconds = r.u32();
  const fraction = r.u32();
  const mediaTime = version === 1 ? r.u64() : r.u32();
  event.prftWallclockMs = (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / 0x1_0000_0000) * 1000;
  event.prftMediaTime =
    ref.timescale === event.timescale || ref.timescale === 0 ? mediaTime : Math.round((mediaTime * event.timescale) / ref.timescale);
}
