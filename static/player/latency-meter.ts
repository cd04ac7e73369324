/**
 * Latency measurement.
 *
 * "e2e": fMP4 fragments with a `prft` box give anchors (element time ↔ publisher wallclock). The
 * anchor's element time is its stream time plus the SourceBuffer's timestampOffset at append time,
 * so it lives on the same timeline as `currentTime` and requestVideoFrameCallback's `mediaTime`.
 * The latency of the frame on screen is `displayWallclock − (anchor.wallclock + (frameTime −
 * anchor.time))`, with the display wallclock from rVFC's `expectedDisplayTime` (or Date.now() and
 * `currentTime` without rVFC). Publisher and viewer clocks are assumed to be synchronised (NTP).
 *
 * "buffer": without anchors, `buffered.end − currentTime`.
 */

import { lastEnd } from "./ranges.ts";

export type { LatencyKind } from "../../src/protocol/messages.ts";

import type { LatencyKind } from "../../src/protocol/messages.ts";

export interface LatencySample {
  latency: number;
  kind: LatencyKind;
}

interface Anchor {
  /** Element timeline seconds. */
  time: number;
  wallclockMs: number;
}

const MAX_ANCHORS = 64;
/** An anchor further than this from the frame is considered unrelated (another stream). */
const MAX_ANCHOR_DISTANCE_S = 30;

export class LatencyMeter {
  readonly #anchors: Anchor[] = [];
  #frameLatency = Number.NaN;
  #frameAtMs = 0;
  #rvfc = 0;
  #running = false;
  #boundary = Number.NaN;

  constructor(private readonly video: HTMLVideoElement) {}

  /** Records a `prft` anchor: element-timeline `time` (s) was produced at `wallclockMs`. */
  addAnchor(time: number, wallclockMs: number): void {
    const last = this.#anchors[this.#anchors.length - 1];
    if (last && time < last.time) this.#anchors.length = 0; // timeline went back: new MediaSource
    this.#anchors.push({ time, wallclockMs });
    if (this.#anchors.length > MAX_ANCHORS) this.#anchors.shift();
  }

  /**
   * A new stream starts at element time `time`: frames from there on never use older anchors (the
   * new stream may carry none).
   */
  boundary(time: number): void {
    this.#boundary = time;
  }

  /** Forgets all anchors (a fresh MediaSource restarts the element timeline). */
  reset(): void {
    this.#anchors.length = 0;
    this.#frameLatency = Number.NaN;
    this.#boundary = Number.NaN;
  }

  /** Starts following presented frames with requestVideoFrameCallback, where available. */
  start(): void {
    if (this.#running || typeof this.video.requestVideoFrameCallback !== "function") return;
    this.#running = true;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
      if (!this.#running) return;
      const displayMs = performance.timeOrigin + meta.expectedDisplayTime;
      this.#frameLatency = this.#e2e(meta.mediaTime, displayMs);
      this.#frameAtMs = performance.now();
      this.#rvfc = this.video.requestVideoFrameCallback(onFrame);
    };
    this.#rvfc = this.video.requestVideoFrameCallback(onFrame);
  }

  stop(): void {
    this.#running = false;
    if (this.#rvfc && typeof this.video.cancelVideoFrameCallback === "function") this.video.cancelVideoFrameCallback(this.#rvfc);
  }

  /** The current latency: e2e when anchors cover the frame on screen, else the buffer latency. */
  sample(): LatencySample {
    const v = this.video;
    // A frame callback from the last second is the most precise; otherwise use currentTime.
    let e2e = performance.now() - this.#frameAtMs < 1000 ? this.#frameLatency : Number.NaN;
    if (Number.isNaN(e2e) && !v.paused) e2e = this.#e2e(v.currentTime, Date.now());
    if (!Number.isNaN(e2e)) return { latency: e2e, kind: "e2e" };
    const end = lastEnd(v.buffered);
    return { latency: end === undefined ? Number.NaN : Math.max(0, end - v.currentTime), kind: "buffer" };
  }

  #e2e(frameTime: number, displayMs: number): number {
    let best: Anchor | undefined;
    for (const a of this.#anchors) if (a.time <= frameTime + 0.001 && (!best || a.time > best.time)) best = a;
    best ??= this.#anchors[0];
    if (!best || Math.abs(frameTime - best.time) > MAX_ANCHOR_DISTANCE_S) return Number.NaN;
    if (frameTime >= this.#boundary - 0.001 && best.time < this.#boundary - 0.001) return Number.NaN;
    return (displayMs - (best.wallclockMs + (frameTime - best.time) * 1000)) / 1000;
  }
}
