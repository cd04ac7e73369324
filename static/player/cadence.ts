import { ArrivalJitter } from "./arrival-jitter.ts";

/**
 * Fragment cadence: how much media time one fragment carries (smoothed spacing of consecutive
 * fragment start times), when the last one was appended, and how regularly appends move the live
 * edge (`arrivals`, the input of the automatic target).
 *
 * Spacings of 1 ms or less and backward steps (interleaved tracks) are ignored. A spacing more than
 * `SKIP_FACTOR` times the current interval is taken for a skip (the server jumped to a later keyframe,
 * a pause) and ignored, unless the next spacing is just as long: then the stream's fragments really
 * did get longer, and the interval becomes that spacing. There is no absolute upper bound, so
 * fragments of 10 s or more are measured too.
 */

/** A spacing this many times the interval is a skip unless it repeats. */
const SKIP_FACTOR = 4;

export class Cadence {
  /** When appends moved the buffered end: the arrival jitter. */
  readonly arrivals = new ArrivalJitter();
  #lastStart = Number.NaN;
  #interval = Number.NaN;
  #lastAppendMs = Number.NaN;
  /** A long spacing seen once (NaN: none): confirmed by a second one like it. */
  #longDelta = Number.NaN;

  /** Smoothed media seconds per fragment; NaN until two fragments were seen. */
  get interval(): number {
    return this.#interval;
  }

  /** Records the start time (stream seconds) of a received fragment. */
  observe(start: number): void {
    if (!Number.isFinite(start)) return;
    const delta = start - this.#lastStart;
    this.#lastStart = start;
    if (!(delta > 0.001)) return; // reordering between interleaved tracks, repeats, a restart
    if (Number.isNaN(this.#interval)) {
      this.#interval = delta;
      return;
    }
    if (delta > SKIP_FACTOR * this.#interval) {
      // The second long spacing in a row, and about as long as the first: the new cadence.
      if (delta < 2 * this.#longDelta && this.#longDelta < 2 * delta) {
        this.#interval = delta;
        this.#longDelta = Number.NaN;
      } else {
        this.#longDelta = delta;
      }
      return;
    }
    this.#longDelta = Number.NaN;
    this.#interval = this.#interval * 0.85 + delta * 0.15;
  }

  /**
   * Records that a fragment was appended at `nowMs` (performance.now()), leaving the buffered end at
   * `end` seconds (NaN: unknown); `caughtUp`: nothing received is still waiting to be appended.
   */
  appended(nowMs: number, end = Number.NaN, caughtUp = true): void {
    this.#lastAppendMs = nowMs;
    this.arrivals.appended(nowMs, end, caughtUp);
  }

  /** Seconds since the last append, at most one fragment interval (0 when unknown). */
  sinceAppend(nowMs: number): number {
    const s = (nowMs - this.#lastAppendMs) / 1000;
    return Number.isFinite(s) ? Math.max(0, Math.min(s, this.intervalOr(0))) : 0;
  }

  /** The interval, or `fallback` while it is unknown. */
  intervalOr(fallback: number): number {
    return Number.isNaN(this.#interval) ? fallback : this.#interval;
  }

  /**
   * A new stream began, the publisher paused, or the server skipped: the next start time is not
   * comparable to the last one, and the arrival timing starts over.
   */
  discontinuity(): void {
    this.#lastStart = Number.NaN;
    this.#longDelta = Number.NaN;
    this.arrivals.reset();
  }
}
