/**
 * Keeps playback near the live edge. Called periodically (`tick`), it:
 * - makes the first seek into freshly buffered data (timestamps of a mid-stream join do not start
 *   at 0 and Chromium would stall at currentTime 0);
 * - starts playback once `target` × 0.8 is buffered ahead (or after 1.5 s with less), so a fresh
 *   stream does not start with an empty buffer;
 * - corrects a small lag (mean buffer latency above target by max(0.12 s, interval / 4) … the jump
 *   threshold) with a playbackRate in (1, maxRate], back to 1.0 within 0.03 s of the target;
 * - lets a too-small buffer (mean more than max(0.15 s, interval / 4) under target) grow with a
 *   rate of at least `minRate` (0.9), back to 1.0 within 0.05 s of the target — and 1.0 whenever
 *   the buffer runs dry (an underrun waits for data anyway; a slower rate would only add to it);
 * - seeks to the edge when even the lowest recent latency is over target + max(2.5 s, 2 fragments),
 *   or, during the first 3 s after a (re)start, over target + half a fragment + 0.3 s;
 * - nudges currentTime over gaps when playback is stuck with data buffered further ahead;
 * - asks for the buffer behind `currentTime − backWindow` to be removed.
 * It leaves a user-paused video alone and jumps to the edge when the user resumes.
 */

import { lastEnd, nextStartAfter, rangeIndexAt } from "./ranges.ts";

export interface LiveEdgeEnv {
  /** Target mean buffer latency (seconds). */
  target(): number;
  /** Media seconds per fragment (NaN while unknown). */
  interval(): number;
  /** Seconds since the last fragment was appended (bounded by `interval()`). */
  sinceAppend(): number;
  /** Queue removal of [start, end) seconds. */
  remove(start: number, end: number): void;
  /** Start playback (autoplay policy handled by the owner). */
  play(): void;
}

const SETTLE_MS = 3000;
/** Start playback anyway after data has been buffered this long. */
const START_WAIT_MS = 1500;
const STUCK_MS = 600;

export class LiveEdgeController {
  /** Seeks to the live edge so far. */
  jumps = 0;
  /** Gap/stall nudges so far. */
  nudges = 0;
  readonly #samples: { at: number; lag: number }[] = [];
  #initialSeek = true;
  #settleUntil = 0;
  #lastJumpAt = -Infinity;
  #lastTime = Number.NaN;
  #stuckSince = 0;
  /** 1: speeding up, -1: slowing down, 0: normal rate. */
  #rateMode = 0;
  #dataSince = Number.NaN;
  #lastTrimAt = 0;
  #userPaused = false;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly env: LiveEdgeEnv,
    readonly maxRate = 1.2,
    readonly minRate = 0.9,
    readonly backWindow = 20,
  ) {
    video.addEventListener("pause", () => {
      this.#userPaused = true;
    });
    video.addEventListener("play", () => {
      if (!this.#userPaused) return;
      this.#userPaused = false;
      this.jumpToEdge(performance.now());
    });
  }

  /** Playback has run past the initial seek of the current MediaSource (and is not user-paused). */
  get started(): boolean {
    return !this.#initialSeek && !this.#userPaused && !Number.isNaN(this.#dataSince) && performance.now() > this.#settleUntil;
  }

  /** A fresh MediaSource: the next buffered data gets the initial seek, then a settling period. */
  restart(): void {
    this.#initialSeek = true;
    this.#samples.length = 0;
    this.#dataSince = Number.NaN;
    this.#userPaused = false;
  }

  /** A new stream continues in the same buffer: settle quickly onto the edge again. */
  settle(now: number): void {
    this.#settleUntil = now + SETTLE_MS;
    this.#samples.length = 0;
  }

  /** Seeks to the live edge if more than 0.2 s behind; returns whether it did. */
  jumpToEdge(now: number): boolean {
    const end = lastEnd(this.video.buffered);
    if (end === undefined) return false;
    const target = this.env.target();
    const interval = this.env.interval();
    const rangeStart = this.video.buffered.start(this.video.buffered.length - 1);
    // Aim for a *mean* latency of `target` over the coming fragment's sawtooth. With the fragment
    // length still unknown (one fragment seen), the start of the buffered range is the safe bet.
    const lag = Math.max(0.1, target + interval / 2 - this.env.sinceAppend());
    const to = Number.isNaN(interval) ? rangeStart : Math.max(end - lag, rangeStart);
    if (to < this.video.currentTime + 0.2) return false; // never seek backwards

    this.video.currentTime = to;
    this.jumps++;
    this.#lastJumpAt = now;
    this.#samples.length = 0;
    this.#setRate(1);
    return true;
  }

  /** One control step; `now` is performance.now(). */
  tick(now: number): void {
    const v = this.video;
    const b = v.buffered;
    const end = lastEnd(b);
    if (end === undefined) return;
    if (Number.isNaN(this.#dataSince)) this.#dataSince = now;
    if (this.#initialSeek) {
      this.#initialSeek = false;
      this.settle(now);
      this.jumpToEdge(now);
      if (rangeIndexAt(b, v.currentTime) < 0) v.currentTime = b.start(b.length - 1);
    }
    if (v.paused) {
      const enough = end - v.currentTime >= 0.8 * this.env.target() || now - this.#dataSince > START_WAIT_MS;
      if (!this.#userPaused && enough) this.env.play();
      this.#stuckSince = now;
      return;
    }
    if (v.seeking) return;
    if (this.#unstick(now, b)) return;

    const t = v.currentTime;
    const lag = end - t;
    const target = this.env.target();
    const interval = this.env.interval() || 0;
    const windowMs = 1000 * Math.min(4, Math.max(1, 2 * interval));
    this.#samples.push({ at: now, lag });
    while (this.#samples.length > 0 && this.#samples[0]!.at < now - windowMs) this.#samples.shift();
    const mean = this.#samples.reduce((s, x) => s + x.lag, 0) / this.#samples.length;
    const floor = Math.min(...this.#samples.map((x) => x.lag));

    const settling = now < this.#settleUntil;
    const jumpOver = settling ? lag - (interval / 2 + 0.3) : floor - Math.max(2.5, 2 * interval);
    if (jumpOver > target && now - this.#lastJumpAt > 1000 && this.jumpToEdge(now)) return;

    this.#setRate(this.#rate(mean - target, lag, target, interval));

    const start = b.start(0);
    if (t - start > this.backWindow + 5 && now - this.#lastTrimAt > 2000) {
      this.#lastTrimAt = now;
      this.env.remove(start, t - this.backWindow);
    }
  }

  /**
   * Playback rate for a mean latency `excess` over target (negative: under) and the current lag.
   * Speeding up also stops as soon as `lag + interval / 2` (never below the sawtooth's mean) is under
   * target: the windowed mean trails the truth and would overshoot.
   */
  #rate(excess: number, lag: number, target: number, interval: number): number {
    // Long fragments make the windowed mean noisy: widen the dead band with them.
    const band = 0.25 * interval;
    if (this.#rateMode === 1 && (excess < 0.03 || lag + interval / 2 < target)) this.#rateMode = 0;
    else if (this.#rateMode === -1 && excess > -0.05) this.#rateMode = 0;
    else if (this.#rateMode === 0 && excess > Math.max(0.12, band) && lag + interval / 2 >= target + 0.03) this.#rateMode = 1;
    else if (this.#rateMode === 0 && excess < -Math.max(0.15, band)) this.#rateMode = -1;
    const dry = lag < 0.04 || this.video.readyState < HTMLMediaElement.HAVE_FUTURE_DATA;
    if (this.#rateMode === 1 && lag >= Math.min(0.15, target / 3)) return 1 + Math.min(this.maxRate - 1, Math.max(0.03, excess * 0.5));
    if (this.#rateMode === -1 && !dry) return 1 - Math.min(1 - this.minRate, Math.max(0.03, -excess * 0.3));
    return 1;
  }

  /** Stall handling; returns true if it moved the playhead. */
  #unstick(now: number, b: TimeRanges): boolean {
    const t = this.video.currentTime;
    if (t !== this.#lastTime) {
      this.#lastTime = t;
      this.#stuckSince = now;
      return false;
    }
    if (now - this.#stuckSince < STUCK_MS) return false;
    const i = rangeIndexAt(b, t, 0.05);
    const ahead = i < 0 ? 0 : b.end(i) - t;
    let to: number | undefined;
    if (ahead < 0.1)
      to = nextStartAfter(b, t + 0.01); // in a gap or at the end of a range
    else if (ahead > 0.5) to = t + 0.1; // data ahead, decoder not moving
    if (to === undefined) return false;
    this.video.currentTime = to;
    this.nudges++;
    this.#stuckSince = now;
    return true;
  }

  #setRate(rate: number): void {
    if (Math.abs(this.video.playbackRate - rate) > 0.005) this.video.playbackRate = rate;
  }
}
