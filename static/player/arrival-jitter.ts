/**
 * How much buffer the network needs: measured from when the live edge (the buffered end) advances.
 *
 * Each sample is an append that brought the buffer up to everything received so far (appends that
 * catch up with a queue, such as the GOP sent on joining, only count with their last one), as the
 * pair (wall time `a`, buffered end `E` in media seconds). Between samples the edge's *lateness*
 * `o(t) = t − E(t)` rises at one second per second and drops at each append. A playhead kept `C`
 * seconds behind the wall clock (`currentTime = t − C`) never runs dry while `C` exceeds every peak
 * `a_i − E_{i−1}`, and its mean buffer latency is then `C − mean(o)`. So the headroom the buffer needs
 * on average is, with `Q = quantile_q(a_i − E_{i−1} − b)`,
 *
 *     headroom = time-average of max(0, Q − (o(t) − b))
 *
 * over a sliding window (where the lateness exceeds Q the buffer is simply empty): half a fragment
 * for a perfectly steady stream of fragments, plus the late tail of the arrival jitter. `b` is the baseline: the earliest `a_j − E_j` within `BASELINE_MS`
 * on both sides of the segment (see `#baselines`). It cancels the unknown clock offset between
 * publisher and viewer, and a lasting change of the path's delay (or a slow drift of the publisher's
 * clock) moves it instead of reading as lateness for the whole window. The single largest peak of the window is
 * always left out: a one-off outage is the underrun penalty's business (auto-target.ts), recurring
 * lateness is this one's.
 */

interface Sample {
  /** Wall time of the append, ms. */
  at: number;
  /** Buffered end after it, media seconds. */
  end: number;
}

/** Fewer samples than this, or spanning less than `MIN_SPAN_MS`, give no estimate yet. */
const MIN_SAMPLES = 6;
const MIN_SPAN_MS = 1000;
/** The baseline is the earliest arrival (relative to media time) of this long before each sample. */
const BASELINE_MS = 4000;
/** An edge that moved back more than this is a new timeline. */
const BACKWARD_S = 0.5;

export class ArrivalJitter {
  readonly #samples: Sample[] = [];
  #head = 0;
  #cached = Number.NaN;
  /** `#cached` is the headroom of the current samples. */
  #fresh = false;

  /**
   * @param windowMs how far back samples count (20 s)
   * @param quantile the share of arrival peaks the headroom covers (0.97); the rest is left to the
   *   decode margin and the underrun penalty (auto-target.ts)
   * @param maxSamples cap on the samples kept (a fragment per audio and video frame is ~80/s)
   */
  constructor(
    readonly windowMs = 20_000,
    readonly quantile = 0.97,
    readonly maxSamples = 4096,
  ) {}

  /** Samples in the window. */
  get size(): number {
    return this.#samples.length - this.#head;
  }

  /**
   * Media was appended at `nowMs` (performance.now()) and the buffered end is now `end` seconds.
   * `caughtUp`: nothing else received is waiting to be appended (only then is this a sample).
   */
  appended(nowMs: number, end: number, caughtUp = true): void {
    if (!Number.isFinite(end) || !Number.isFinite(nowMs)) return;
    const last = this.#samples[this.#samples.length - 1];
    if (last && this.size > 0) {
      if (end < last.end - BACKWARD_S) this.reset();
      else if (end <= last.end + 1e-6 || nowMs < last.at) return; // the edge did not move (e.g. audio behind video)
    }
    if (!caughtUp) return;
    this.#samples.push({ at: nowMs, end });
    this.#fresh = false;
    this.#trim(nowMs);
  }

  /** Forgets every sample (a new MediaSource, a new timeline, a jump the server made). */
  reset(): void {
    this.#samples.length = 0;
    this.#head = 0;
    this.#fresh = false;
  }

  /** Headroom in seconds (see the module comment); NaN until enough samples span enough time. */
  headroom(nowMs: number): number {
    this.#trim(nowMs);
    if (!this.#fresh) {
      this.#cached = this.#compute();
      this.#fresh = true;
    }
    return this.#cached;
  }

  #compute(): number {
    const n = this.size;
    if (n < MIN_SAMPLES) return Number.NaN;
    const s = this.#samples;
    const h = this.#head;
    if (s[s.length - 1]!.at - s[h]!.at < MIN_SPAN_MS) return Number.NaN;
    const base = this.#baselines();
    // Segment k: between samples k and k + 1, o(t) − b rises linearly from lo[k] to hi[k].
    const lo = new Float64Array(n - 1);
    const hi = new Float64Array(n - 1);
    for (let k = 0; k < n - 1; k++) {
      const prev = s[h + k]!;
      lo[k] = prev.at / 1000 - prev.end - base[k]!;
      hi[k] = s[h + k + 1]!.at / 1000 - prev.end - base[k]!;
    }
    const peaks = hi.slice().sort();
    // The single worst peak never counts (with few samples the quantile would be the maximum).
    const q = peaks[Math.max(0, Math.min(peaks.length - 2, Math.floor(this.quantile * peaks.length)))]!;
    // The mean buffer latency of a playhead `q` behind the baseline: max(0, q − (o − b)) averaged
    // over time. Where o − b exceeds q (the peaks left out) the buffer is empty, not negative.
    let weighted = 0;
    let span = 0;
    for (let k = 0; k < n - 1; k++) {
      const dt = hi[k]! - lo[k]!;
      if (!(dt > 0)) continue;
      span += dt;
      const u = lo[k]!;
      const v = hi[k]!;
      if (v <= q) weighted += dt * (q - (u + v) / 2);
      else if (u < q) weighted += (q - u) ** 2 / 2;
    }
    return span > 0 ? weighted / span : Number.NaN;
  }

  /**
   * The baseline of each sample in the window: the larger of the smallest `at − end` of the
   * `BASELINE_MS` before it and of the `BASELINE_MS` after it (as far as known). So a late spell
   * shorter than `BASELINE_MS` counts as lateness once it is over (earlier arrivals on both sides), a
   * single late fragment at once, and a lasting change of the delay as the new baseline.
   */
  #baselines(): Float64Array {
    const s = this.#samples;
    const h = this.#head;
    const n = this.size;
    const at = (k: number) => s[h + k]!.at;
    const off = (k: number) => s[h + k]!.at / 1000 - s[h + k]!.end;
    const back = slidingMin(n, off, (newer, older) => at(newer) - at(older) > BASELINE_MS);
    const fwd = slidingMin(
      n,
      (k) => off(n - 1 - k),
      (newer, older) => at(n - 1 - older) - at(n - 1 - newer) > BASELINE_MS,
    );
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) out[k] = Math.max(back[k]!, fwd[n - 1 - k]!);
    return out;
  }

  #trim(nowMs: number): void {
    const s = this.#samples;
    while (this.size > 0 && (s[this.#head]!.at < nowMs - this.windowMs || this.size > this.maxSamples)) {
      this.#head++;
      this.#fresh = false;
    }
    if (this.#head > 1024 && this.#head * 2 > s.length) {
      s.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/**
 * For k = 0..n−1, the minimum of `value(j)` over the j ≤ k not yet `expired(k, j)` (expiry must be
 * monotonic: once expired for k, expired for every later k). Amortised O(n) with a monotonic deque.
 */
function slidingMin(n: number, value: (k: number) => number, expired: (k: number, j: number) => boolean): Float64Array {
  const out = new Float64Array(n);
  const deque = new Int32Array(n);
  let front = 0;
  let back = 0;
  for (let k = 0; k < n; k++) {
    const v = value(k);
    while (back > front && value(deque[back - 1]!) >= v) back--;
    deque[back++] = k;
    while (expired(k, deque[front]!)) front++;
    out[k] = value(deque[front]!);
  }
  return out;
}
