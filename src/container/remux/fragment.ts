import {
  MDAT,
  MFHD,
  MOOF,
  NTP_UNIX_OFFSET_S,
  PRFT,
  SAMPLE_DEPENDS_ON_NONE,
  SAMPLE_DEPENDS_ON_OTHERS,
  SAMPLE_IS_NON_SYNC,
  TFDT,
  TFHD,
  TFHD_DEFAULT_BASE_IS_MOOF,
  TRAF,
  TRUN,
  TRUN_DATA_OFFSET,
  TRUN_SAMPLE_CTO,
  TRUN_SAMPLE_DURATION,
  TRUN_SAMPLE_FLAGS,
  TRUN_SAMPLE_SIZE,
} from "../fmp4/box-types.ts";
import { BoxWriter } from "./box-writer.ts";

/** One sample waiting for its fragment; times in its track's media timescale. */
export interface Sample {
  dts: number;
  /** Composition offset `pts - dts`, within the signed 32-bit range. */
  cto: number;
  data: Uint8Array;
  /** trun sample_flags (`SYNC_SAMPLE` or `NON_SYNC_SAMPLE`). */
  flags: number;
  arrivalMs: number;
}

// Sample flags, ISO/IEC 14496-12 §8.8.3.1: sample_depends_on = 2 (an I picture) for sync samples;
// sample_depends_on = 1 and sample_is_non_sync_sample for the others.
export const SYNC_SAMPLE = SAMPLE_DEPENDS_ON_NONE;
export const NON_SYNC_SAMPLE = SAMPLE_DEPENDS_ON_OTHERS | SAMPLE_IS_NON_SYNC;

const U32_MAX = 0xffff_ffff;

/** The samples of one track in one fragment. */
export interface TrackRun {
  trackId: number;
  samples: Sample[];
  /**
   * Decode time just after the last sample: the next sample's dts when known, else an estimate.
   * Sample durations are the dts differences, the last one `endDts - lastDts`.
   */
  endDts: number;
}

/** A `prft` (§8.16.5) to put before the moof: `wallclockMs` is when `mediaTime` of `trackId` arrived. */
export interface ProducerTime {
  trackId: number;
  wallclockMs: number;
  mediaTime: number;
}

/** Sizes of the fixed boxes (header included). */
const PRFT_SIZE = 8 + 4 + 4 + 8 + 8; // FullBox v1: reference_track_ID, 64-bit NTP, 64-bit media_time
const MFHD_SIZE = 8 + 4 + 4;
const TFHD_SIZE = 8 + 4 + 4;
const TFDT_SIZE = 8 + 4 + 8; // version 1
const TRUN_FIXED = 8 + 4 + 4 + 4; // sample_count, data_offset

/**
 * Writes one media segment: optional `prft`, then `moof` (`mfhd` with `sequence`; per run a `traf`
 * with `tfhd` default-base-is-moof, `tfdt` version 1 and one `trun` with data offset and per-sample
 * duration, size, flags and, when any is non-zero, composition offsets: version 1 (signed) when any
 * is negative, else version 0), then one `mdat` holding the runs' data in run order. Runs must be
 * non-empty. The result is allocated once at its exact size; each sample's bytes are copied once.
 * Returns the bytes and each run's total duration.
 */
export function writeFragment(
  sequence: number,
  runs: TrackRun[],
  prft: ProducerTime | undefined,
): { bytes: Uint8Array; durations: number[] } {
  let moofSize = 8 + MFHD_SIZE;
  let dataSize = 0;
  const cto: boolean[] = [];
  for (const run of runs) {
    let anyCto = false;
    for (const s of run.samples) {
      dataSize += s.data.byteLength;
      if (s.cto !== 0) anyCto = true;
    }
    cto.push(anyCto);
    moofSize += 8 + TFHD_SIZE + TFDT_SIZE + TRUN_FIXED + run.samples.length * (anyCto ? 16 : 12);
  }
  const prftSize = prft ? PRFT_SIZE : 0;
  const w = new BoxWriter(prftSize + moofSize + 8 + dataSize, true);
  if (prft) writePrft(w, prft);

  const moof = w.begin(MOOF);
  const mfhd = w.beginFull(MFHD, 0, 0);
  w.u32(sequence);
  w.end(mfhd);
  const durations: number[] = [];
  // Data offsets count from the moof's first byte: past the moof and the mdat header.
  let dataOffset = moofSize + 8;
  for (let r = 0; r < runs.length; r++) {
    const run = runs[r]!;
    const samples = run.samples;
    const traf = w.begin(TRAF);
    const tfhd = w.beginFull(TFHD, 0, TFHD_DEFAULT_BASE_IS_MOOF);
    w.u32(run.trackId);
    w.end(tfhd);
    const tfdt = w.beginFull(TFDT, 1, 0);
    w.u64(samples[0]!.dts);
    w.end(tfdt);
    const withCto = cto[r]!;
    let negative = false;
    if (withCto) for (const s of samples) if (s.cto < 0) negative = true;
    const flags = TRUN_DATA_OFFSET | TRUN_SAMPLE_DURATION | TRUN_SAMPLE_SIZE | TRUN_SAMPLE_FLAGS | (withCto ? TRUN_SAMPLE_CTO : 0);
    const trun = w.beginFull(TRUN, negative ? 1 : 0, flags);
    w.u32(samples.length);
    w.u32(dataOffset);
    let total = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      const next = i + 1 < samples.length ? samples[i + 1]!.dts : run.endDts;
      const duration = Math.min(U32_MAX, Math.max(0, next - s.dts));
      total += duration;
      w.u32(duration);
      w.u32(s.data.byteLength);
      w.u32(s.flags);
      if (withCto) w.u32(s.cto);
      dataOffset += s.data.byteLength;
    }
    durations.push(total);
    w.end(trun);
    w.end(traf);
  }
  w.end(moof);

  w.u32(8 + dataSize);
  w.u32(MDAT);
  for (const run of runs) for (const s of run.samples) w.data(s.data);
  return { bytes: w.finish(), durations };
}

/** prft version 1 (§8.16.5): reference track, NTP timestamp, 64-bit media_time. */
function writePrft(w: BoxWriter, prft: ProducerTime): void {
  const box = w.beginFull(PRFT, 1, 0);
  w.u32(prft.trackId);
  const { seconds, fraction } = toNtp(prft.wallclockMs);
  w.u32((seconds + NTP_UNIX_OFFSET_S) % 0x1_0000_0000); // NTP era 0 until 2036, then it wraps
  w.u32(fraction);
  w.u64(prft.mediaTime);
  w.end(box);
}

/** Unix ms as an NTP 32.32 timestamp (RFC 5905 §6), seconds still counted from 1970. */
function toNtp(ms: number): { seconds: number; fraction: number } {
  const clamped = Math.max(0, ms);
  let seconds = Math.floor(clamped / 1000);
  let fraction = Math.round(((clamped - seconds * 1000) / 1000) * 0x1_0000_0000);
  if (fraction > U32_MAX) {
    seconds += 1;
    fraction = 0;
  }
  return { seconds, fraction };
}

/** The wallclock a reader of the `prft` written for `ms` gets back (ms, rounded to 2^-32 s). */
export function ntpRoundTripMs(ms: number): number {
  const { seconds, fraction } = toNtp(ms);
  return seconds * 1000 + (fraction / 0x1_0000_0000) * 1000;
}
