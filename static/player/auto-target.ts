/**
 * The automatic target latency (used when the `target-latency` attribute is absent or `auto`).
 *
 * Base: 0.5 s for short fragments; for long ones the playhead must stay about half a fragment plus
 * a safety margin behind the buffered end, so `0.3 + 0.7 × interval` (1.0 s for 1 s fragments),
 * capped at 6 s. On top of it, every underrun (the buffer ran dry while live) adds 0.25 s, up to
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
    const base = Number.isFinite(interval) ? Math.min(6, Math.max(0.5, 0.3 + 0.7 * interval)) : 0.5;
    return base + this.#decayed(nowMs);
  }

  #decayed(nowMs: number): number {
    return this.#penalty * 0.5 ** Math.max(0, (nowMs - this.#penaltyAt) / 60_000);
  }
}
