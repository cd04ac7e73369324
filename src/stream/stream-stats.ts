import { ViewerLatency } from "./viewer-latency.ts";

const RATE_WINDOW_MS = 5000;
/** Publish-delay samples kept for percentiles. */
const DELAY_SAMPLES_CAP = 1024;
/** Most fragments remembered for the rate window (a cap, not a tuning knob). */
const RATE_SAMPLES_CAP = 2048;

/**
 * Counters and rates of one stream, fed by the stream layer with explicit timestamps (ms) so the
 * arithmetic is testable without clocks. `bitrate` (bits per second) and `fragmentRate` (per second)
 * cover the last `RATE_WINDOW_MS` of fragments.
 */
export class StreamStats {
  bytesIn = 0;
  /** Bytes handed to viewers' sockets (maintained by the fan-out). */
  bytesOut = 0;
  fragments = 0;
  keyframes = 0;
  /** Slow-viewer policy events (maintained by the fan-out). */
  viewerSkips = 0;
  viewerCloses = 0;
  publisherConnects = 0;
  /** What the stream's viewers report (maintained by the viewer-report handler): latency, and totals of their per-viewer deltas. */
  readonly viewerLatency = new ViewerLatency();
  viewerStalls = 0;
  viewerDroppedFrames = 0;
  viewerDecodedFrames = 0;
  /** Seconds of media between the last two keyframe fragments (NaN until two were seen). */
  keyframeInterval = Number.NaN;
  /** Wall time (ms) the current publisher went live, or NaN. */
  liveSince = Number.NaN;
  /** Wall time (ms) of the last fragment, or NaN. */
  lastFragmentAt = Number.NaN;
  private lastKeyTime = Number.NaN;
  private delays: number[] = [];
  private delayNext = 0;
  private window: Array<{ at: number; bytes: number }> = [];

  /** A publisher went live at `now`. */
  connected(now: number): void {
    this.publisherConnects++;
    this.liveSince = now;
    this.lastKeyTime = Number.NaN;
    this.window = [];
  }

  ended(): void {
    this.liveSince = Number.NaN;
  }

  /** `mediaSeconds` is the fragment's decode time in seconds. */
  fragment(now: number, bytes: number, keyframe: boolean, mediaSeconds: number): void {
    this.bytesIn += bytes;
    this.fragments++;
    this.lastFragmentAt = now;
    if (keyframe) {
      this.keyframes++;
      if (Number.isFinite(this.lastKeyTime) && mediaSeconds > this.lastKeyTime) this.keyframeInterval = mediaSeconds - this.lastKeyTime;
      this.lastKeyTime = mediaSeconds;
    }
    this.window.push({ at: now, bytes });
    if (this.window.length > RATE_SAMPLES_CAP) this.window.shift();
  }

  /** Records how long a fragment took from its last byte's arrival to being handed to the fan-out (ms). */
  publishDelay(ms: number): void {
    if (this.delays.length < DELAY_SAMPLES_CAP) this.delays.push(ms);
    else this.delays[this.delayNext] = ms;
    this.delayNext = (this.delayNext + 1) % DELAY_SAMPLES_CAP;
  }

  /** Percentile (0..1) of the recent publish delays in ms, NaN when none. */
  publishDelayPercentile(p: number): number {
    if (this.delays.length === 0) return Number.NaN;
    const sorted = [...this.delays].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  }

  get bitrate(): number {
    const w = this.recent();
    if (w.length < 2) return 0;
    const span = (w[w.length - 1]!.at - w[0]!.at) / 1000;
    return span > 0 ? (w.slice(1).reduce((n, s) => n + s.bytes, 0) * 8) / span : 0;
  }

  get fragmentRate(): number {
    const w = this.recent();
    if (w.length < 2) return 0;
    const span = (w[w.length - 1]!.at - w[0]!.at) / 1000;
    return span > 0 ? (w.length - 1) / span : 0;
  }

  private recent(): Array<{ at: number; bytes: number }> {
    const last = this.window[this.window.length - 1];
    if (!last) return [];
    const from = last.at - RATE_WINDOW_MS;
    return this.window.filter((s) => s.at >= from);
  }
}
