/**
 * The automatic target latency (used when the `target-latency` attribute is absent or `auto`): the
 * mean buffer latency the live-edge controller holds, derived from what the player measures.
 *
 * Base: the arrival headroom (arrival-jitter.ts: a high quantile of how late the live edge gets
 * between appends, minus its average: half a fragment plus the late tail of the jitter) plus a
 * decode margin of `DECODE_MARGIN_S`, at most 6 s. About 0.07 s for a fragment per frame on a quiet
 * link, 0.1 s for 100 ms fragments, more as the arrivals get irregular. Until the headroom is known
 * (the first second of arrivals) it is the fragment interval plus the margin, or 0.5 s while the
 * interval is unknown too. The base rises at once and falls with a half-life of 4 s, so one quiet
 * moment after a jittery one does not pull the buffer down at once.
 *
 * On top of it, every underrun (the buffer ran dry while live; several within 3 s count once) adds
 * `UNDERRUN_STEP_S`, up to 2 s,
 * and that penalty halves every minute without underruns: what the arrival statistics did not
 * foresee (a decoder or CPU hiccup, a burst of loss) earns more headroom, a steady link gives it back.
 */

/** What the browser needs buffered beyond the network's own headroom to decode and present in time. */
export const DECODE_MARGIN_S = 0.1;
const UNDERRUN_STEP_S = 0.1;
/** Underruns this close together are one episode (Chromium may report one dry spell several times). */
const EPISODE_MS = 3000;
const MAX_PENALTY_S = 2;
const MAX_BASE_S = 6;
const UNKNOWN_S = 0.5;
/** A falling base approaches the new value with this half-life (ms). */
const FALL_HALF_LIFE_MS = 4000;

export class AutoTarget {
  #penalty = 0;
  #penaltyAt = 0;
  #counted = false;
  #base = Number.NaN;
  #baseAt = 0;
  #measured = false;

  /**
   * The buffer ran dry at `nowMs` (performance.now()) while a live stream was playing. Underruns
   * less than `EPISODE_MS` after the last counted one belong to the same episode and add nothing.
   */
  underrun(nowMs: number): void {
    if (this.#counted && nowMs >= this.#penaltyAt && nowMs - this.#penaltyAt < EPISODE_MS) return;
    this.#penalty = Math.min(MAX_PENALTY_S, this.#decayed(nowMs) + UNDERRUN_STEP_S);
    this.#penaltyAt = nowMs;
    this.#counted = true;
  }

  /** The current penalty (seconds) at `nowMs`. */
  penalty(nowMs: number): number {
    return this.#decayed(nowMs);
  }

  /**
   * Target mean buffer latency (seconds) at `nowMs` for an arrival `headroom` (NaN: not known yet)
   * and fragments of `interval` seconds (NaN: unknown). Calls must come with non-decreasing `nowMs`.
   */
  value(headroom: number, interval: number, nowMs: number): number {
    const measured = Number.isFinite(headroom);
    const base = this.#smoothed(this.#base0(headroom, interval), measured, nowMs);
    return base + this.#decayed(nowMs);
  }

  #base0(headroom: number, interval: number): number {
    if (Number.isFinite(headroom)) return Math.min(MAX_BASE_S, Math.max(0, headroom) + DECODE_MARGIN_S);
    if (Number.isFinite(interval) && interval > 0) return Math.min(MAX_BASE_S, interval + DECODE_MARGIN_S);
    return UNKNOWN_S;
  }

  #smoothed(base: number, measured: boolean, nowMs: number): number {
    // Only a measured base falls slowly: a guess gives way to the first measurement at once.
    const wasMeasured = this.#measured;
    this.#measured = measured;
    if (!measured || !wasMeasured || base >= this.#base) {
      this.#base = base;
    } else {
      const keep = 0.5 ** (Math.max(0, nowMs - this.#baseAt) / FALL_HALF_LIFE_MS);
      this.#base = base + (this.#base - base) * keep;
    }
    this.#baseAt = nowMs;
    return this.#base;
  }

  #decayed(nowMs: number): number {
    return this.#penalty * 0.5 ** Math.max(0, (nowMs - this.#penaltyAt) / 60_000);
  }
}
