import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";
import type { FragmentEvent, TrackInfo } from "../types.ts";
import { MFHD, TFDT, TFHD, TRAF, TRUN, childBoxes, findBox, readFullBoxHeader, requireBox, type Box } from "./boxes.ts";
import type { MovieInfo } from "./moov.ts";

/** The FragmentEvent fields a moof (and an optional prft before it) determine. */
export type FragmentInfo = Omit<FragmentEvent, "type" | "bytes">;

// sample_is_non_sync_sample bit of sample flags, ISO/IEC 14496-12 §8.8.3.1.
const NON_SYNC_SAMPLE = 0x0001_0000;
// tfhd flags, §8.8.7.1.
const TFHD_BASE_DATA_OFFSET = 0x01;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x02;
const TFHD_DEFAULT_DURATION = 0x08;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_FLAGS = 0x20;
// trun flags, §8.8.8.1.
const TRUN_DATA_OFFSET = 0x001;
const TRUN_FIRST_SAMPLE_FLAGS = 0x004;
const TRUN_SAMPLE_DURATION = 0x100;
const TRUN_SAMPLE_SIZE = 0x200;
const TRUN_SAMPLE_FLAGS = 0x400;
const TRUN_SAMPLE_CTO = 0x800;
// Seconds between the NTP epoch (1900) and the Unix epoch (1970).
const NTP_UNIX_OFFSET_S = 2_208_988_800;

interface TrafInfo {
  trackId: number;
  baseMediaDecodeTime: number | undefined;
  /** Resolved flags of the traf's first sample; undefined when it has no samples. */
  firstSampleFlags: number | undefined;
  /** Sum of sample durations; undefined when some are not stated anywhere. */
  duration: number | undefined;
}

/**
 * Reads a complete `moof` payload (and the payload of the `prft` just before it, if any) against the
 * movie's tracks. Keyframe: the first sample of the first video traf is a sync sample (resolved via
 * trun first_sample_flags → per-sample flags → tfhd default → trex default); false when a video
 * stream's fragment has no video sample; always true for audio-only streams. Times refer to the video
 * traf, else the first traf. Throws `malformed` on any box that contradicts its size or references an
 * unknown track.
 */
export function readFragmentInfo(moof: Uint8Array, prft: Uint8Array | undefined, movie: MovieInfo): FragmentInfo {
  const boxes = childBoxes(moof);
  const trafs = boxes.filter((b) => b.type === TRAF).map((b) => readTraf(b, movie));
  const isVideo = (id: number) => trackById(movie, id).kind === "video";
  const hasVideo = movie.tracks.some((t) => t.kind === "video");
  const videoTraf = trafs.find((t) => isVideo(t.trackId));
  const main = videoTraf ?? trafs[0];
  const mainTrack = main ? trackById(movie, main.trackId) : movie.tracks.find((t) => t.kind !== "other");
  const timescale = mainTrack?.timescale ?? 0;

  const flags = videoTraf?.firstSampleFlags;
  const info: FragmentInfo = {
    keyframe: hasVideo ? flags !== undefined && (flags & NON_SYNC_SAMPLE) === 0 : true,
    decodeTime: main?.baseMediaDecodeTime ?? 0,
    timescale,
  };
  if (main?.duration !== undefined) info.duration = main.duration;
  const mfhd = findBox(boxes, MFHD);
  if (mfhd) {
    const r = new Reader(mfhd.payload);
    readFullBoxHeader(r);
    info.sequence = r.u32();
  }
  if (prft) Object.assign(info, readPrft(prft, movie, timescale));
  return info;
}

function trackById(movie: MovieInfo, id: number): TrackInfo {
  const track = movie.tracks.find((t) => t.id === id);
  if (!track) throw new ParseError("malformed", `fragment refers to track ${id}, which the moov does not declare`);
  return track;
}

function readTraf(traf: Box, movie: MovieInfo): TrafInfo {
  const boxes = childBoxes(traf.payload);
  const r = new Reader(requireBox(boxes, TFHD, TRAF).payload);
  const { flags: tfhdFlags } = readFullBoxHeader(r);
  const trackId = r.u32();
  if (tfhdFlags & TFHD_BASE_DATA_OFFSET) r.skip(8);
  if (tfhdFlags & TFHD_SAMPLE_DESCRIPTION_INDEX) r.skip(4);
  const trex = movie.trex.get(trackId);
  const defaultDuration = tfhdFlags & TFHD_DEFAULT_DURATION ? r.u32() : trex?.defaultSampleDuration;
  if (tfhdFlags & TFHD_DEFAULT_SIZE) r.skip(4);
  const defaultFlags = tfhdFlags & TFHD_DEFAULT_FLAGS ? r.u32() : trex?.defaultSampleFlags;

  let baseMediaDecodeTime: number | undefined;
  const tfdt = findBox(boxes, TFDT);
  if (tfdt) {
    const t = new Reader(tfdt.payload);
    const { version } = readFullBoxHeader(t);
    baseMediaDecodeTime = version === 1 ? t.u64() : t.u32();
  }

  let firstSampleFlags: number | undefined;
  let duration: number | undefined = 0;
  for (const trun of boxes) {
    if (trun.type !== TRUN) continue;
    const run = readTrun(trun, defaultDuration, defaultFlags);
    if (firstSampleFlags === undefined) firstSampleFlags = run.firstSampleFlags;
    duration = duration === undefined || run.duration === undefined ? undefined : duration + run.duration;
  }
  return { trackId, baseMediaDecodeTime, firstSampleFlags, duration };
}

function readTrun(trun: Box, defaultDuration: number | undefined, defaultFlags: number | undefined) {
  const r = new Reader(trun.payload);
  const { flags } = readFullBoxHeader(r);
  const count = r.u32();
  if (flags & TRUN_DATA_OFFSET) r.skip(4);
  const firstFlags = flags & TRUN_FIRST_SAMPLE_FLAGS ? r.u32() : undefined;
  const hasDuration = (flags & TRUN_SAMPLE_DURATION) !== 0;
  const hasFlags = (flags & TRUN_SAMPLE_FLAGS) !== 0;
  const stride = 4 * [TRUN_SAMPLE_DURATION, TRUN_SAMPLE_SIZE, TRUN_SAMPLE_FLAGS, TRUN_SAMPLE_CTO].filter((f) => flags & f).length;
  r.need(count * stride, `trun with ${count} samples`);
  if (count === 0) return { firstSampleFlags: undefined, duration: 0 };

  // Per-sample record: duration, size, flags, composition offset, each present by its flag (§8.8.8.2).
  const flagsAt = (hasDuration ? 4 : 0) + (flags & TRUN_SAMPLE_SIZE ? 4 : 0);
  const start = r.pos;
  let firstSampleFlags = firstFlags;
  if (firstSampleFlags === undefined && hasFlags) {
    r.pos = start + flagsAt;
    firstSampleFlags = r.u32();
  }
  firstSampleFlags ??= defaultFlags ?? 0;

  let duration: number | undefined;
  if (hasDuration) {
    duration = 0;
    for (let i = 0; i < count; i++) {
      r.pos = start + i * stride;
      duration += r.u32();
    }
  } else if (defaultDuration !== undefined) {
    duration = defaultDuration * count;
  }
  return { firstSampleFlags, duration };
}

/** prft (§8.16.5): NTP wallclock in ms since the Unix epoch and media time in `timescale` ticks. */
function readPrft(prft: Uint8Array, movie: MovieInfo, timescale: number): Pick<FragmentInfo, "prftWallclockMs" | "prftMediaTime"> {
  const r = new Reader(prft);
  const { version } = readFullBoxHeader(r);
  const ref = trackById(movie, r.u32());
  const seconds = r.u32();
  const fraction = r.u32();
  const mediaTime = version === 0 ? r.u32() : r.u64();
  return {
    prftWallclockMs: (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / 0x1_0000_0000) * 1000,
    prftMediaTime: ref.timescale === timescale || ref.timescale === 0 ? mediaTime : Math.round((mediaTime * timescale) / ref.timescale),
  };
}
