/**
 * Playback statistics: the `SluiceStats` snapshot exposed as `element.stats`, and the rolling
 * measurements behind it (bitrate from bytes received, frame rate from getVideoPlaybackQuality).
 */

import type { LatencyKind, LatencySample } from "./latency-meter.ts";
import { lastEnd } from "./ranges.ts";

/** A snapshot of the player's statistics (all numbers; NaN when unknown). */
export interface SluiceStats {
  state: string;
  mime: string;
  format: string;
  /** Decoded picture size (videoWidth × videoHeight). */
  width: number;
  height: number;
  /** Frames per second decoded, from getVideoPlaybackQuality deltas. */
  fps: number;
  /** Bits per second received (smoothed). */
  bitrate: number;
  latency: number;
  latencyKind: LatencyKind;
  /** Target mean buffer latency in use (seconds). */
  targetLatency: number;
  /** Seconds buffered ahead of currentTime. */
  bufferLength: number;
  playbackRate: number;
  droppedFrames: number;
  decodedFrames: number;
  reconnects: number;
  /** Seconds since the last media fragment arrived (NaN before the first). */
  sinceLastFragment: number;
  fragmentsReceived: number;
  bytesReceived: number;
  /** Media fragments dropped (queue overflow, resync, idle ManagedMediaSource). */
  fragmentsDropped: number;
  /** Seeks to the live edge, and gap/stall nudges. */
  jumps: number;
  nudges: number;
  /** Publisher restarts / reconnects handled in the same buffer, and MediaSource recreations. */
  restarts: number;
  recreations: number;
  /** Media seconds per fragment (smoothed). */
  fragmentInterval: number;
  /** Round trip to the server in seconds (WebSocket `ping` → `pong`, smoothed; NaN before the first). */
  roundTrip: number;
}

/** Rolling counters: feed with `received()`, sample with `tick()` about every 250 ms or more. */
export class StatsMeter {
  fragmentsReceived = 0;
  bytesReceived = 0;
  lastFragmentMs = Number.NaN;
  bitrate = Number.NaN;
  fps = Number.NaN;
  /** Smoothed round trip in ms (see `pong`). */
  roundTripMs = Number.NaN;
  #windowBytes = 0;
  #windowStart = 0;
  #lastFrames = Number.NaN;
  #lastFramesAt = 0;

  /** A media fragment of `bytes` bytes arrived at `nowMs` (performance.now()). */
  received(bytes: number, nowMs: number): void {
    this.fragmentsReceived++;
    this.bytesReceived += bytes;
    this.#windowBytes += bytes;
    this.lastFragmentMs = nowMs;
  }

  /** A `pong` echoing the `ping` sent at `sentMs` arrived at `nowMs` (both performance.now()). */
  pong(sentMs: number, nowMs: number): void {
    const rtt = nowMs - sentMs;
    if (!(rtt >= 0 && rtt < 60_000)) return; // not a ping of this page: ignored
    this.roundTripMs = Number.isNaN(this.roundTripMs) ? rtt : this.roundTripMs * 0.7 + rtt * 0.3;
  }

  /** Updates bitrate (1 s windows, smoothed) and frame rate. */
  tick(nowMs: number, video: HTMLVideoElement): void {
    if (this.#windowStart === 0) this.#windowStart = nowMs;
    const dt = (nowMs - this.#windowStart) / 1000;
    if (dt >= 1) {
      const bps = (this.#windowBytes * 8) / dt;
      this.bitrate = Number.isNaN(this.bitrate) ? bps : this.bitrate * 0.6 + bps * 0.4;
      this.#windowBytes = 0;
      this.#windowStart = nowMs;
    }
    const frames = video.getVideoPlaybackQuality?.().totalVideoFrames;
    if (frames === undefined) return;
    const fdt = (nowMs - this.#lastFramesAt) / 1000;
    if (fdt < 1) return;
    if (!Number.isNaN(this.#lastFrames) && frames >= this.#lastFrames) {
      const rate = (frames - this.#lastFrames) / fdt;
      this.fps = Number.isNaN(this.fps) ? rate : this.fps * 0.5 + rate * 0.5;
    }
    this.#lastFrames = frames;
    this.#lastFramesAt = nowMs;
  }
}

/** What the stats snapshot needs from the player besides the video element and the meter. */
export interface StatsInputs {
  state: string;
  mime: string;
  format: string;
  latency: LatencySample;
  targetLatency: number;
  reconnects: number;
  fragmentsDropped: number;
  jumps: number;
  nudges: number;
  restarts: number;
  recreations: number;
  fragmentInterval: number;
}

/** Builds a `SluiceStats` snapshot from the video element, the meter and the player's counters. */
export function snapshotStats(video: HTMLVideoElement, meter: StatsMeter, p: StatsInputs): SluiceStats {
  const q = video.getVideoPlaybackQuality?.();
  const end = lastEnd(video.buffered);
  const { latency, ...rest } = p;
  return {
    ...rest,
    width: video.videoWidth,
    height: video.videoHeight,
    fps: meter.fps,
    bitrate: meter.bitrate,
    latency: latency.latency,
    latencyKind: latency.kind,
    bufferLength: end === undefined ? 0 : Math.max(0, end - video.currentTime),
    playbackRate: video.playbackRate,
    droppedFrames: q?.droppedVideoFrames ?? 0,
    decodedFrames: q?.totalVideoFrames ?? 0,
    sinceLastFragment: (performance.now() - meter.lastFragmentMs) / 1000,
    fragmentsReceived: meter.fragmentsReceived,
    bytesReceived: meter.bytesReceived,
    roundTrip: meter.roundTripMs / 1000,
  };
}

/** Human-readable lines for the stats overlay. */
export function formatStats(s: SluiceStats): string {
  const f = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : "–");
  return [
    `state      ${s.state}`,
    `mime       ${s.mime || "–"}`,
    `resolution ${s.width > 0 ? `${s.width}×${s.height}` : "–"}`,
    `fps        ${f(s.fps, 1)}`,
    `bitrate    ${Number.isFinite(s.bitrate) ? `${(s.bitrate / 1000).toFixed(0)} kbit/s` : "–"}`,
    `latency    ${f(s.latency)} s (${s.latencyKind}), target ${f(s.targetLatency)} s`,
    `buffer     ${f(s.bufferLength)} s, rate ${f(s.playbackRate, 3)}`,
    `frames     ${s.decodedFrames} decoded, ${s.droppedFrames} dropped`,
    `fragments  ${s.fragmentsReceived} (${f(s.fragmentInterval, 3)} s each), last ${f(s.sinceLastFragment, 1)} s ago, ${s.fragmentsDropped} dropped`,
    `reconnects ${s.reconnects}, restarts ${s.restarts}, recreated ${s.recreations}, round trip ${Number.isFinite(s.roundTrip) ? `${(s.roundTrip * 1000).toFixed(0)} ms` : "–"}`,
    `jumps      ${s.jumps}, nudges ${s.nudges}`,
  ].join("\n");
}
