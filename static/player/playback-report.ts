/**
 * The player's periodic `report` to the server (see src/protocol/messages.ts and the README's
 * "Viewer latency"): its latency and kind, target, and stalls / dropped / decoded frames counted
 * since the current WebSocket opened, so the server can take per-viewer deltas.
 */

import { REPORT_INTERVAL_MS, REPORT_MIN_INTERVAL_MS, type ViewerReport } from "../../src/protocol/messages.ts";
import type { LatencySample } from "./latency-meter.ts";

/** Cumulative frame counters of the video element (getVideoPlaybackQuality). */
export interface FrameCounts {
  dropped: number;
  decoded: number;
}

/** What a report is made of at the moment it is due. */
export interface PlaybackReading {
  latency: LatencySample;
  /** Target buffer latency in use (seconds; NaN when unknown). */
  target: number;
  frames: FrameCounts | undefined;
}

/** Reporting interval for a requested one (ms): the default when absent, never below the minimum; 0 or less: never. */
export function reportInterval(requested: number | undefined): number {
  if (requested === undefined || Number.isNaN(requested)) return REPORT_INTERVAL_MS;
  return requested <= 0 ? Number.POSITIVE_INFINITY : Math.max(REPORT_MIN_INTERVAL_MS, requested);
}

/** Builds one connection's reports, one per interval; times are `performance.now()` ms. */
export class PlaybackReporter {
  #stalls = 0;
  #dropped = 0;
  #decoded = 0;
  #frames: FrameCounts | undefined;
  #nextAt = Number.POSITIVE_INFINITY;

  constructor(readonly intervalMs: number) {}

  /** A socket opened at `nowMs`: counters start from zero, the first report is due one interval later. */
  opened(nowMs: number, frames: FrameCounts | undefined): void {
    this.#stalls = this.#dropped = this.#decoded = 0;
    this.#frames = frames;
    this.#nextAt = nowMs + this.intervalMs;
  }

  /** Playback stalled (the buffer ran dry while live). */
  stalled(): void {
    this.#stalls++;
  }

  /**
   * The report due at `nowMs`, or undefined when none is due yet or the latency is unknown (then the
   * next call may send it). The frame counters only grow: a video element whose counters went back
   * (a new media resource) adds its new counts.
   */
  due(nowMs: number, r: PlaybackReading): ViewerReport | undefined {
    this.#count(r.frames);
    if (nowMs < this.#nextAt || !Number.isFinite(r.latency.latency)) return undefined;
    this.#nextAt = nowMs + this.intervalMs;
    const ms = (s: number) => Math.round(s * 1000) / 1000;
    const report: ViewerReport = {
      type: "report",
      latency: ms(r.latency.latency),
      kind: r.latency.kind,
      stalls: this.#stalls,
      dropped: this.#dropped,
      decoded: this.#decoded,
    };
    if (Number.isFinite(r.target)) report.target = ms(r.target);
    return report;
  }

  #count(frames: FrameCounts | undefined): void {
    if (!frames) return;
    const last = this.#frames ?? { dropped: 0, decoded: 0 };
    this.#dropped += frames.dropped >= last.dropped ? frames.dropped - last.dropped : frames.dropped;
    this.#decoded += frames.decoded >= last.decoded ? frames.decoded - last.decoded : frames.decoded;
    this.#frames = frames;
  }
}
