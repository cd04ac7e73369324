/**
 * Cuts a stream's fragments into LL-HLS partial segments and media segments (RFC 8216bis §4.4.4.9,
 * §4.4.5.1), pure. Times are seconds of the stream's timeline (video decode time when there is video).
 */

/** One fragment as the builder sees it. */
export interface TimedFragment {
  bytes: Uint8Array;
  /** The fragment starts with a video keyframe (audio-only streams: always). */
  keyframe: boolean;
  /** Decode time of its first sample, seconds. */
  time: number;
  /** Duration the container states, seconds (undefined: unknown). */
  duration?: number;
  /** Publisher wallclock (ms since the Unix epoch) of `time`, when known. */
  wallclockMs?: number;
}

/** A finished partial segment: whole fragments, never a split one. */
export interface BuiltPart {
  bytes: Uint8Array;
  /** Seconds: the next part's start minus this part's start (estimated for the last part of a stream). */
  duration: number;
  /** Its first fragment starts with a keyframe (EXT-X-PART INDEPENDENT=YES). */
  independent: boolean;
  /** Start of its first fragment, seconds. */
  start: number;
  /** Publisher wallclock of its start, when known. */
  wallclockMs?: number;
  /** This part starts a new media segment. */
  segmentStart: boolean;
}

export type BuildEvent = { type: "part"; part: BuiltPart } | { type: "segment-end" };

export interface PartBuilderOptions {
  /** Parts are cut so that they last at most this long (unless a single fragment is longer), seconds. */
  partTarget: number;
  /**
   * A segment is closed at a part boundary before it would outlast this, seconds (default: no limit),
   * even without a keyframe: the next segment then starts with an INDEPENDENT=NO part.
   */
  maxSegment?: number;
  /**
   * A keyframe starts a new media segment once the current one is at least this long, seconds (so
   * audio-only and all-intra streams, where every fragment is a keyframe, still get real segments).
   * A keyframe that starts no segment does not cut a part either: only a segment's last part and
   * INDEPENDENT parts may fall under 85% of the part target (RFC 8216bis §4.4.4.9).
   */
  minSegment: number;
}

/** Timing slack for float rounding only: a part this much over the target still counts as within it. */
const SLACK = 1e-6;

/**
 * Groups fragments into parts of at most `partTarget` (whole fragments only: a longer fragment is a
 * part of its own, and the part before it is closed early) and parts into media segments that start at
 * a keyframe, or at a part boundary when the next fragment would make the segment outlast `maxSegment`.
 * A fragment's duration is the next fragment's start minus its own start, so a part is finished when
 * the fragment after it arrives. Before a stream's first keyframe (and after `reset`) fragments are
 * dropped: a stream's first segment starts decodable.
 */
export class PartBuilder {
  private opts: Required<PartBuilderOptions>;
  private pending: TimedFragment[] = [];
  private segmentStartTime = Number.NaN;
  private pendingStartsSegment = false;
  private lastGap: number | undefined;
  /** Fragments dropped while waiting for a keyframe. */
  dropped = 0;
  /** Segments closed without a keyframe after them because the next fragment would outlast `maxSegment`. */
  splits = 0;

  constructor(opts: PartBuilderOptions) {
    this.opts = { maxSegment: Number.POSITIVE_INFINITY, ...opts };
  }

  /** New limits from the next fragment on (a playlist fixes them once its first segment is complete). */
  setLimits(opts: PartBuilderOptions): void {
    this.opts = { maxSegment: Number.POSITIVE_INFINITY, ...opts };
  }

  /** Whether no segment is open (waiting for a keyframe). */
  get waiting(): boolean {
    return this.pending.length === 0;
  }

  /** Takes one fragment; returns the parts (and segment ends) it finished, in order. */
  push(f: TimedFragment): BuildEvent[] {
    if (this.pending.length === 0) {
      if (!f.keyframe) {
        this.dropped++;
        return [];
      }
      this.open(f, true);
      return [];
    }
    const first = this.pending[0]!;
    const last = this.pending[this.pending.length - 1]!;
    const gap = f.time - last.time;
    if (gap > 0 && gap < 10 * Math.max(1, this.opts.partTarget)) this.lastGap = gap;
    const out: BuildEvent[] = [];
    if (f.keyframe && f.time - this.segmentStartTime >= this.opts.minSegment - SLACK) {
      out.push(this.close(f.time - first.time), { type: "segment-end" });
      this.open(f, true);
      return out;
    }
    const estimate = f.duration ?? this.lastGap ?? 0;
    if (f.time - this.segmentStartTime + estimate > this.opts.maxSegment + SLACK) {
      // RFC 8216bis §6.2.1: a segment MUST NOT outlast the target duration, while cutting at a keyframe is
      // only a SHOULD; without EXT-X-INDEPENDENT-SEGMENTS (§4.4.2.1) a segment may start mid-GOP.
      out.push(this.close(f.time - first.time), { type: "segment-end" });
      this.open(f, true);
      this.splits++;
      return out;
    }
    if (f.time - first.time + estimate > this.opts.partTarget + SLACK) {
      out.push(this.close(f.time - first.time));
      this.open(f, false);
      return out;
    }
    this.pending.push(f);
    return out;
  }

  /** The stream ended (or its init changed): finishes what is open, the last duration estimated. */
  flush(): BuildEvent[] {
    if (this.pending.length === 0) return [];
    const first = this.pending[0]!;
    const last = this.pending[this.pending.length - 1]!;
    const tail = last.duration ?? this.lastGap ?? 0;
    const out: BuildEvent[] = [this.close(last.time - first.time + tail), { type: "segment-end" }];
    this.reset();
    return out;
  }

  /** Drops what is open; the next segment starts at the next keyframe. */
  reset(): void {
    this.pending = [];
    this.segmentStartTime = Number.NaN;
    this.lastGap = undefined;
  }

  private open(f: TimedFragment, segmentStart: boolean): void {
    this.pending = [f];
    this.pendingStartsSegment = segmentStart;
    if (segmentStart) this.segmentStartTime = f.time;
  }

  private close(measured: number): BuildEvent {
    const frags = this.pending;
    const first = frags[0]!;
    // A timestamp jump (publisher glitch) must not become a huge or negative duration: estimate instead.
    const estimate = frags.reduce((n, f) => n + (f.duration ?? this.lastGap ?? 0), 0);
    const sane = measured > 0 && measured <= Math.max(estimate * 4, this.opts.partTarget * 10, 1);
    const size = frags.reduce((n, f) => n + f.bytes.byteLength, 0);
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const f of frags) {
      bytes.set(f.bytes, at);
      at += f.bytes.byteLength;
    }
    const part: BuiltPart = {
      bytes,
      duration: sane ? measured : estimate,
      independent: first.keyframe,
      start: first.time,
      segmentStart: this.pendingStartsSegment,
    };
    if (first.wallclockMs !== undefined) part.wallclockMs = first.wallclockMs;
    this.pending = [];
    return { type: "part", part };
  }
}
