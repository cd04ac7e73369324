/**
 * The automatic target latency (used when the `target-latency` attribute is absent or `auto`).
 *
 * Base: `0.25 + 0.75 × interval`, at least 0.3 s and at most 6 s: the playhead stays most of a
 * fragment plus a margin behind the buffered end (0.325 s for 100 ms fragments, 1.0 s for 1 s ones;
 * 0.5 s until the fragment interval is known). 0.3 s for short fragments keeps encode-to-display
 * under 0.5 s with the low-latency commands (bench/browser-results.md). On top of it, every underrun (the buffer ran dry while live) adds 0.25 s, up to
 * 2 s, and that penalty halves every minute without underruns: a jittery network earns a little
 * more headroom, a steady one gives it back.
 */
export class AutoTarget {
  #penalty = 0;
  #penaltyAt = 0;

  /** The buffer ran dry at `nowMs` (performance.now()) while a live stream was playing. */
  underrun(nowMs: number): void {
    this.#penalty = Math.min(2, this.#decayed(nowMs) + 0.25);
    this.#penaltyAt = nowMs;
  }

  /** Target mean buffer latency (seconds) for fragments of `interval` seconds (NaN: unknown). */
  value(interval: number, nowMs: number): number {
    const base = Number.isFinite(interval) ? Math.min(6, Math.max(0.3, 0.25 + 0.75 * interval)) : 0.5;
    return base + this.#decayed(nowMs);
  }

  #decayed(nowMs: number): number {
    return this.#penalty * 0.5 ** Math.max(0, (nowMs - this.#penaltyAt) / 60_000);
  }
}
