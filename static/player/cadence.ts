/**
 * Fragment cadence: how much media time one fragment carries (smoothed spacing of consecutive
 * fragment start times) and when the last one was appended.
 */

export class Cadence {
  #lastStart = Number.NaN;
  #interval = Number.NaN;
  #lastAppendMs = Number.NaN;

  /** Smoothed media seconds per fragment; NaN until two fragments were seen. */
  get interval(): number {
    return this.#interval;
  }

  /** Records the start time (stream seconds) of a received fragment. */
  observe(start: number): void {
    if (!Number.isFinite(start)) return;
    const delta = start - this.#lastStart;
    this.#lastStart = start;
    // Ignore reordering between interleaved tracks, and discontinuities (restarts, skips).
    if (!(delta > 0.001 && delta < 10)) return;
    this.#interval = Number.isNaN(this.#interval) ? delta : this.#interval * 0.85 + delta * 0.15;
  }

  /** Records that a fragment was appended at `nowMs` (performance.now()). */
  appended(nowMs: number): void {
    this.#lastAppendMs = nowMs;
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

  /** A new stream began: the next start time is not comparable to the last one. */
  discontinuity(): void {
    this.#lastStart = Number.NaN;
  }
}
