/**
 * Keeps playback near the live edge. Called periodically (`tick`) and after every append
 * (`appended`), it:
 * - shows the first frame at once: as soon as the first fragment of a fresh MediaSource is appended
 *   the playhead is put on it (its keyframe is decoded and presented while the rest of the joined GOP
 *   is still being appended); once the appends have caught up with what was received, it seeks to
 *   the live edge (one decode from the keyframe, with that keyframe on screen: faster than playing
 *   the GOP through at a higher rate) and starts playback once `target` × 0.8 is buffered ahead (or
 *   after 1.5 s with less);
 * - corrects a lag with a playbackRate in (1, maxRate] once the mean buffer latency is more than
 *   `tolerance` over target, back to 1.0 within a quarter of it; tolerance = max(0.03 s, target / 4,
 *   interval / 4), so a 0.1 s target is held to a few hundredths and long fragments get a wide band.
 *   Only with at least 0.17 s buffered (`RATE_UP_MIN_LAG_S`): Chromium's audio time-stretching at any
 *   rate but 1 needs more data ahead. Below that, an excess of half the tolerance is cut at the next
 *   keyframe instead (`env.trim`: the sink places that keyframe earlier, over the unplayed end of the
 *   GOP before it);
 * - lets a too-small buffer (mean more than 1.25 × tolerance under target) grow with a rate of at
 *   least `minRate` (0.9), back to 1.0 within a third of the tolerance — and 1.0 whenever the buffer
 *   runs dry (an underrun waits for data anyway: the rate mode and the latency window start over);
 * - holds 1.0 while the fragment interval is unknown (one long fragment: speeding through it would
 *   only run the buffer dry before the next one);
 * - seeks to the edge when even the lowest recent latency is over target + max(2.5 s, 2 fragments),
 *   or, during the 3 s after a (re)start, a return to a visible page, or an underrun, over target +
 *   half a fragment + 0.3 s (the picture is frozen or new then: one decode beats seconds of
 *   fast-forward);
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
  /**
   * Shed this many seconds of latency at the next keyframe (a cut at the buffered end, at rate 1.0);
   * 0 cancels. Asked on every tick while the buffer is too long but too short for a faster rate.
   */
  trim?(seconds: number): void;
  /** The clock, ms (performance.now() in the browser). */
  now(): number;
}

const SETTLE_MS = 3000;
/**
 * Faster than 1.0 only with at least this much buffered: Chromium time-stretches audio at any rate
 * other than 1 and then needs more of it decoded ahead. Measured here (Chromium 156, a fragment per
 * frame): at 1.03 the buffer ran dry with 0.11–0.15 s buffered, every few seconds, where 1.0 played on
 * at 0.12 s; slowing down (0.9–0.97) at 0.15 s did not.
 */
const RATE_UP_MIN_LAG_S = 0.17;
/** Below RATE_UP_MIN_LAG_S, an excess over target of half the tolerance (at least this) is cut at the next keyframe (`env.trim`). */
const MIN_CUT_S = 0.02;

/** Start playback anyway after data has been buffered this long. */
const START_WAIT_MS = 1500;
const STUCK_MS = 600;
/** Less than this buffered ahead while playing counts as dry, as does a readyState under HAVE_FUTURE_DATA. */
const DRY_S = 0.01;
/** HTMLMediaElement.HAVE_FUTURE_DATA (HTML § 4.8.11.7). */
const HAVE_FUTURE_DATA = 3;

export class LiveEdgeController {
  /** Seeks to the live edge so far. */
  jumps = 0;
  /** Gap/stall nudges so far. */
  nudges = 0;
  readonly #samples: { at: number; lag: number }[] = [];
  #initialSeek = true;
  /** The playhead was put on the first fragment (its keyframe presented) before the initial seek. */
  #firstFrame = false;
  #settleUntil = 0;
  /** Until then, lags over target + half a fragment + 0.3 s jump (after settle(), catchUp()). */
  #catchUpUntil = 0;
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
      this.catchUp(env.now());
    });
  }

  /** Playback has run past the initial seek of the current MediaSource (and is not user-paused). */
  get started(): boolean {
    return !this.#initialSeek && !this.#userPaused && !Number.isNaN(this.#dataSince) && this.env.now() > this.#settleUntil;
  }

  /** A fresh MediaSource: the next buffered data gets the initial seek, then a settling period. */
  restart(): void {
    this.#initialSeek = true;
    this.#firstFrame = false;
    this.#samples.length = 0;
    this.#dataSince = Number.NaN;
    this.#userPaused = false;
    this.#rateMode = 0;
  }

  /** A new stream continues in the same buffer: settle quickly onto the edge again. */
  settle(now: number): void {
    this.#settleUntil = now + SETTLE_MS;
    this.#catchUpUntil = Math.max(this.#catchUpUntil, now + SETTLE_MS);
    this.#samples.length = 0;
  }

  /**
   * Playback resumes after time away (the page became visible again, the user resumed): jump to the
   * edge now if behind, and for 3 s treat a lag as something to jump over rather than play through.
   */
  catchUp(now: number): void {
    this.#catchUpUntil = now + SETTLE_MS;
    this.#samples.length = 0;
    this.#rateMode = 0;
    this.jumpToEdge(now);
  }

  /**
   * Media was appended at `now`; `caughtUp`: nothing received is left to append. Before the first
   * seek of a fresh MediaSource this presents the first frame, and once caught up makes that seek.
   */
  appended(now: number, caughtUp: boolean): void {
    if (!this.#initialSeek) {
      // The joined GOP may still be arriving after the first seek (a slow link): follow it at once.
      if (caughtUp && now < this.#settleUntil && !this.video.seeking) {
        const end = lastEnd(this.video.buffered);
        const interval = this.env.interval() || 0;
        if (end !== undefined && end - this.video.currentTime - (interval / 2 + 0.3) > this.env.target()) this.jumpToEdge(now);
      }
      return;
    }
    const b = this.video.buffered;
    if (lastEnd(b) === undefined) return;
    if (Number.isNaN(this.#dataSince)) this.#dataSince = now;
    if (!this.#firstFrame && rangeIndexAt(b, this.video.currentTime) < 0) {
      this.#firstFrame = true;
      this.video.currentTime = b.start(b.length - 1);
    }
    if (caughtUp) this.#initial(now, true);
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

  /** One control step; `now` is the env clock. */
  tick(now: number): void {
    const v = this.video;
    const b = v.buffered;
    const end = lastEnd(b);
    if (end === undefined) return;
    if (Number.isNaN(this.#dataSince)) this.#dataSince = now;
    if (this.#initialSeek) this.#initial(now, false);
    if (v.paused) {
      this.#startIfReady(now, end);
      this.#stuckSince = now;
      return;
    }
    if (v.seeking) return;
    if (this.#unstick(now, b)) return;

    const t = v.currentTime;
    const lag = end - t;
    const target = this.env.target();
    const raw = this.env.interval();
    const known = raw > 0;
    const interval = known ? raw : 0;
    if (lag < DRY_S || v.readyState < HAVE_FUTURE_DATA) {
      // Dry: nothing to correct with the rate; when data comes back, a big lag is jumped over.
      this.env.trim?.(0);
      this.#samples.length = 0;
      this.#rateMode = 0;
      this.#catchUpUntil = now + SETTLE_MS;
      this.#setRate(1);
      return;
    }
    const windowMs = 1000 * Math.min(4, Math.max(1, 2 * interval));
    this.#samples.push({ at: now, lag });
    while (this.#samples.length > 0 && this.#samples[0]!.at < now - windowMs) this.#samples.shift();
    const mean = this.#samples.reduce((s, x) => s + x.lag, 0) / this.#samples.length;
    const floor = Math.min(...this.#samples.map((x) => x.lag));

    const catchingUp = now < this.#catchUpUntil;
    const jumpOver = catchingUp ? lag - (interval / 2 + 0.3) : floor - Math.max(2.5, 2 * interval);
    if (jumpOver > target && now - this.#lastJumpAt > 1000 && this.jumpToEdge(now)) return;

    // The mean of the coming sawtooth: the lag right after the last append, less half a fragment.
    const coming = lag + this.env.sinceAppend() - interval / 2;
    this.#setRate(known ? this.#rate(mean - target, lag, coming, target, interval) : 1);
    // The part of the excess a faster rate cannot shed (under RATE_UP_MIN_LAG_S) is cut at the next
    // keyframe, once it is over half the tolerance: cuts cost no decoding, so the band can be tighter.
    const cut = Math.min(mean, lag, RATE_UP_MIN_LAG_S) - target;
    this.env.trim?.(cut > Math.max(MIN_CUT_S, tolerance(target, interval) / 2) ? cut : 0);

    const start = b.start(0);
    if (t - start > this.backWindow + 5 && now - this.#lastTrimAt > 2000) {
      this.#lastTrimAt = now;
      this.env.remove(start, t - this.backWindow);
    }
  }

  /** The first seek into the data of a fresh MediaSource, then a settling period; `start`: play if ready. */
  #initial(now: number, start: boolean): void {
    this.#initialSeek = false;
    this.settle(now);
    this.jumpToEdge(now);
    const b = this.video.buffered;
    if (b.length > 0 && rangeIndexAt(b, this.video.currentTime) < 0) this.video.currentTime = b.start(b.length - 1);
    const end = lastEnd(b);
    if (start && end !== undefined && this.video.paused) this.#startIfReady(now, end);
  }

  #startIfReady(now: number, end: number): void {
    const enough = end - this.video.currentTime >= 0.8 * this.env.target() || now - this.#dataSince > START_WAIT_MS;
    if (!this.#userPaused && enough) this.env.play();
  }

  /**
   * Playback rate for a mean latency `excess` over target (negative: under), the current lag and the
   * mean latency of the coming fragment's sawtooth (`coming`). Speeding up also stops as soon as
   * `coming` is under target: the windowed mean trails the truth and would overshoot, and with long
   * fragments the buffer would run dry before the next one.
   */
  #rate(excess: number, lag: number, coming: number, target: number, interval: number): number {
    const tol = tolerance(target, interval);
    if (this.#rateMode === 1 && (excess < tol / 4 || coming < target)) this.#rateMode = 0;
    else if (this.#rateMode === -1 && excess > -tol / 3) this.#rateMode = 0;
    else if (this.#rateMode === 0 && excess > tol && coming >= target + tol / 4) this.#rateMode = 1;
    else if (this.#rateMode === 0 && excess < -1.25 * tol) this.#rateMode = -1;
    if (this.#rateMode === 1 && lag >= RATE_UP_MIN_LAG_S) return 1 + Math.min(this.maxRate - 1, Math.max(0.03, excess * 0.5));
    if (this.#rateMode === -1) return 1 - Math.min(1 - this.minRate, Math.max(0.03, -excess * 0.3));
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

/** How far the mean latency may stray from the target before the rate corrects it. */
function tolerance(target: number, interval: number): number {
  return Math.max(0.03, 0.25 * target, 0.25 * interval);
}
