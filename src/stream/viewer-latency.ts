import { LATENCY_KINDS, type LatencyKind } from "../protocol/messages.ts";

/** Upper bounds (seconds) of the Prometheus histogram's buckets; `+Inf` is implied. */
export const LATENCY_BUCKETS: readonly number[] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
/** Largest latency recorded (seconds); reports are clamped to 0..this before they get here. */
export const MAX_LATENCY_SECONDS = 60;

/** The sliding window of the percentiles: `WINDOW_SLOTS` slots of `SLOT_MS` (the last 55-60 s). */
const SLOT_MS = 5000;
const WINDOW_SLOTS = 12;
/**
 * Fine log-spaced buckets for the percentiles: bucket 0 holds [0, FINE_MIN], bucket b > 0 holds
 * (FINE_MIN·R^(b−1), FINE_MIN·R^b]. A percentile is reported as its bucket's geometric middle, so it
 * is within ±2 % (√R − 1) of the exact one (or under 1 ms for bucket 0), whatever the number of viewers.
 */
const FINE_MIN = 0.001;
const FINE_RATIO = 1.04;
const FINE_BUCKETS = 2 + Math.ceil(Math.log(MAX_LATENCY_SECONDS / FINE_MIN) / Math.log(FINE_RATIO));

/** A Prometheus histogram: per-bucket counts (not cumulative; the last one is the `+Inf` overflow), sum and count. */
export interface LatencyHistogram {
  readonly buckets: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** The viewers' latency of one stream over the last minute: the most reported kind and its percentiles. */
export interface LatencySummary {
  kind: LatencyKind;
  p50: number;
  p95: number;
  /** Reports of `kind` in the window. */
  reports: number;
}

/**
 * The latency viewers report for one stream, per kind: a cumulative Prometheus histogram (since the
 * stream was created) and percentiles over a sliding minute. Memory is bounded per kind (a few
 * kilobytes) however many viewers report; times are explicit (ms) so it is testable without clocks.
 */
export class ViewerLatency {
  readonly #kinds = new Map<LatencyKind, KindRecord>();

  /** Records one report's latency (seconds, clamped to 0..MAX_LATENCY_SECONDS) at `now` (ms). */
  observe(kind: LatencyKind, seconds: number, now: number): void {
    let r = this.#kinds.get(kind);
    if (!r) {
      r = new KindRecord();
      this.#kinds.set(kind, r);
    }
    r.observe(Math.min(MAX_LATENCY_SECONDS, Math.max(0, seconds)), now);
  }

  /** The histogram of every kind that was ever reported, in `LATENCY_KINDS` order. */
  histograms(): Array<[LatencyKind, LatencyHistogram]> {
    return LATENCY_KINDS.flatMap((k) => {
      const r = this.#kinds.get(k);
      return r ? [[k, r.histogram] as [LatencyKind, LatencyHistogram]] : [];
    });
  }

  /**
   * p50 and p95 (nearest rank, see FINE_RATIO for the precision) of the kind most reported in the
   * window ending at `now` (e2e on a tie), or undefined when no report arrived in it.
   */
  summary(now: number): LatencySummary | undefined {
    let best: { kind: LatencyKind; counts: Uint32Array; n: number } | undefined;
    for (const kind of LATENCY_KINDS) {
      const w = this.#kinds.get(kind)?.window(now);
      if (w && w.n > 0 && (!best || w.n > best.n)) best = { kind, ...w };
    }
    if (!best) return undefined;
    return { kind: best.kind, p50: percentile(best.counts, best.n, 0.5), p95: percentile(best.counts, best.n, 0.95), reports: best.n };
  }
}

/** One slot of the window: fine-bucket counts of the reports of SLOT_MS starting at `index` × SLOT_MS. */
interface Slot {
  index: number;
  counts: Uint32Array;
  n: number;
}

class KindRecord {
  readonly #buckets = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  #sum = 0;
  #count = 0;
  /** Ring of slots by slot index modulo WINDOW_SLOTS, allocated on first use. */
  readonly #slots: Array<Slot | undefined> = new Array(WINDOW_SLOTS).fill(undefined);

  get histogram(): LatencyHistogram {
    return { buckets: this.#buckets, sum: this.#sum, count: this.#count };
  }

  observe(seconds: number, now: number): void {
    let b = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
    if (b < 0) b = LATENCY_BUCKETS.length;
    this.#buckets[b]!++;
    this.#sum += seconds;
    this.#count++;
    const index = Math.floor(now / SLOT_MS);
    const at = index % WINDOW_SLOTS;
    let slot = this.#slots[at];
    if (!slot) {
      slot = { index, counts: new Uint32Array(FINE_BUCKETS), n: 0 };
      this.#slots[at] = slot;
    } else if (slot.index !== index) {
      if (index < slot.index) return; // the clock went back: the window only moves forward
      slot.index = index;
      slot.counts.fill(0);
      slot.n = 0;
    }
    slot.counts[fineBucket(seconds)]!++;
    slot.n++;
  }

  /** The fine-bucket counts of the slots inside the window ending at `now`. */
  window(now: number): { counts: Uint32Array; n: number } {
    const current = Math.floor(now / SLOT_MS);
    const counts = new Uint32Array(FINE_BUCKETS);
    let n = 0;
    for (const slot of this.#slots) {
      if (!slot || slot.n === 0 || slot.index > current || slot.index <= current - WINDOW_SLOTS) continue;
      for (let i = 0; i < FINE_BUCKETS; i++) counts[i]! += slot.counts[i]!;
      n += slot.n;
    }
    return { counts, n };
  }
}

function fineBucket(seconds: number): number {
  if (seconds <= FINE_MIN) return 0;
  return Math.min(FINE_BUCKETS - 1, Math.max(1, Math.ceil(Math.log(seconds / FINE_MIN) / Math.log(FINE_RATIO))));
}

/** The value at nearest rank ⌈p·n⌉ of `n` values counted in fine buckets, as its bucket's geometric middle. */
function percentile(counts: Uint32Array, n: number, p: number): number {
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    seen += counts[b]!;
    if (seen >= rank) return b === 0 ? 0 : Math.min(MAX_LATENCY_SECONDS, FINE_MIN * FINE_RATIO ** (b - 0.5));
  }
  return MAX_LATENCY_SECONDS;
}
