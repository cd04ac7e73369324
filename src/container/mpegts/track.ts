import type { CodedFrame, TrackConfig } from "../remux/frame.ts";
import type { PesPacket } from "./pes.ts";
import type { TrackTimeline } from "./timeline.ts";

/** What the MPEG-TS demuxer counts; every counter only grows. */
export interface TsCounters {
  /** Transport packets whose continuity_counter skipped (packets lost) on a followed PID. */
  continuityErrors: number;
  /** Repeated packets (same continuity_counter, §2.4.3.3) ignored. */
  duplicatePackets: number;
  /** Packets ignored: transport_error_indicator set, scrambled, or a header that contradicts itself. */
  badPackets: number;
  /** Times the 0x47 sync byte was not where expected. */
  syncLosses: number;
  /** Bytes skipped to find sync again, plus a partial packet left at the end. */
  skippedBytes: number;
  /** PSI sections dropped: bad CRC_32, impossible length, contradictory fields, cut by a lost packet. */
  sectionErrors: number;
  /** PAT/PMT changes that changed the followed program or its selected streams. */
  programChanges: number;
  /** discontinuity_indicator flags seen on the PCR PID or a selected PID. */
  discontinuityIndicators: number;
  /** Time base breaks re-based so the output continues monotonic (indicator or a jump). */
  timelineBreaks: number;
  /** Frame times raised to keep dts strictly increasing per track. */
  clampedTimestamps: number;
  /** PES packets thrown away: lost packets inside, shorter than declared, bad header. */
  damagedPes: number;
  /** PES packets thrown away for exceeding `maxPesBytes` or the buffer budget. */
  oversizedPes: number;
  /** Frames not emitted: before the first keyframe, after damage until the next keyframe, without codec configuration or time, or dropped from the held queue by the budget. */
  droppedFrames: number;
  /** Elementary-stream data that could not be parsed (broken ADTS/Opus framing, unreadable parameter sets). */
  malformedData: number;
}

/** All counters at 0. */
export function newCounters(): TsCounters {
  return {
    continuityErrors: 0,
    duplicatePackets: 0,
    badPackets: 0,
    syncLosses: 0,
    skippedBytes: 0,
    sectionErrors: 0,
    programChanges: 0,
    discontinuityIndicators: 0,
    timelineBreaks: 0,
    clampedTimestamps: 0,
    damagedPes: 0,
    oversizedPes: 0,
    droppedFrames: 0,
    malformedData: 0,
  };
}

/** One selected elementary stream: turns its complete PES packets into frames and knows its codec configuration. */
export interface ElementaryTrack {
  readonly kind: "video" | "audio";
  readonly pid: number;
  readonly timeline: TrackTimeline;
  /** The current configuration, undefined until known; a new object whenever it changes. */
  readonly config: TrackConfig | undefined;
  /** The stream turned out not to be what was guessed (a sniffed private stream): it will never have a configuration. */
  readonly failed?: boolean;
  /** Appends the frames of `pes` to `out`. Never throws on bad elementary data: it is dropped and counted. */
  onPes(pes: PesPacket, out: CodedFrame[]): void;
  /** A PES of this track was lost or damaged. */
  onDamage(): void;
}
