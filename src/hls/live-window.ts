/**
 * The sliding window of one live stream's LL-HLS media, pure: media segments (each a run of partial
 * segments), the init segment of each epoch, sequence numbers, and a byte cap.
 */

import type { BuiltPart } from "./part-builder.ts";

interface LivePart {
  index: number;
  duration: number;
  independent: boolean;
  bytes: Uint8Array;
}

export interface LiveSegment {
  msn: number;
  /** The epoch (init segment) its media belongs to. */
  epoch: string;
  parts: LivePart[];
  /** Sum of its parts' durations, seconds. */
  duration: number;
  complete: boolean;
  /** An EXT-X-DISCONTINUITY precedes it (a new init, or media left out before it). */
  discontinuity: boolean;
  /** Publisher wallclock of its first sample (EXT-X-PROGRAM-DATE-TIME), when known. */
  wallclockMs?: number;
  /** Bytes held: its parts (one buffer once complete: the parts are views into it). */
  size: number;
  /** The whole segment, once complete. */
  bytes?: Uint8Array;
}

export interface LiveWindowOptions {
  /** Complete media segments listed in the playlist. */
  segments: number;
  /** Cap of the bytes held (window, segments still downloadable after leaving it, the open segment). */
  maxBytes: number;
  /** The configured part target, seconds: PART-TARGET unless the first segment's parts are longer. */
  partTarget: number;
  /** The lowest EXT-X-TARGETDURATION, seconds (default 1). */
  minTargetDuration?: number;
}

/**
 * How far a segment may outlast EXT-X-TARGETDURATION: its EXTINF, rounded to the nearest integer, must
 * not exceed it (RFC 8216bis §4.4.3.1); 50 ms are kept for a fragment longer than its estimate.
 */
const ROUNDING_ALLOWANCE = 0.45;
/** Float rounding only. */
const EPS = 1e-6;

/** What `addPart` did: `overflow` means the open segment alone outgrew the cap and everything was dropped. */
export type AddResult = "ok" | "overflow";

/**
 * One stream's window. `addPart` appends to the open segment, `endSegment` completes it, `newEpoch`
 * switches to a new init (the next segment gets EXT-X-DISCONTINUITY and its own EXT-X-MAP). Segments
 * leaving the playlist stay downloadable for as many segments again (RFC 8216bis §6.2.2), unless the
 * byte cap needs their room; the cap drops oldest first, and an open segment that alone outgrows it
 * drops everything (the next segment then starts at a keyframe after a discontinuity). The target
 * duration and part target are fixed when the first segment is complete (`ready`) and kept for the
 * window's life, new epochs included (RFC 8216bis §6.2.1); parts and segments that still outlast them
 * are counted (`longParts`, `longSegments`). `version` changes with every change, for waiters and
 * rendering caches.
 */
export class LiveWindow {
  readonly opts: LiveWindowOptions;
  /** Complete segments in the playlist, oldest first. */
  segments: LiveSegment[] = [];
  /** The segment being built (has at least one part), if any. */
  current: LiveSegment | undefined;
  /** The epoch the next part belongs to. */
  epoch: string;
  /** Media sequence number the next segment gets. */
  nextMsn: number;
  /** EXT-X-DISCONTINUITY-SEQUENCE: discontinuities that left the playlist. */
  discontinuitySequence = 0;
  /**
   * EXT-X-TARGETDURATION, fixed for the life of this playlist (RFC 8216bis §6.2.1: it MUST NOT change) when
   * the first segment is complete: its duration rounded up, at least `minTargetDuration`. 0 until then.
   */
  targetDuration = 0;
  /**
   * PART-TARGET, seconds (a multiple of 1 ms), fixed with the target duration: the configured part target,
   * or the longest part of the first segment if longer (a part never splits a fragment). 0 until then.
   */
  partTarget = 0;
  /** Parts longer than PART-TARGET after it was fixed (a fragment longer than the target cannot be split). */
  longParts = 0;
  /** Segments whose EXTINF rounds above the target duration (a single fragment outlasting it). */
  longSegments = 0;
  ended = false;
  version = 0;
  bytes = 0;
  /** Times the open segment outgrew the cap. */
  overflows = 0;
  private retired: LiveSegment[] = [];
  private readonly inits = new Map<string, Uint8Array>();
  private pendingDiscontinuity = false;
  private longestPart = 0;

  constructor(opts: LiveWindowOptions, epoch: string, init: Uint8Array, firstMsn = 0) {
    this.opts = opts;
    this.epoch = epoch;
    this.inits.set(epoch, init);
    this.bytes = init.byteLength;
    this.nextMsn = firstMsn;
  }

  /** Whether the target duration and part target are fixed: the playlist may be served. */
  get ready(): boolean {
    return this.targetDuration > 0;
  }

  /** The longest a segment may last, seconds (unlimited until the target duration is fixed). */
  get maxSegment(): number {
    return this.ready ? this.targetDuration + ROUNDING_ALLOWANCE : Number.POSITIVE_INFINITY;
  }

  /** A new init segment: later media belongs to `epoch`, after a discontinuity. */
  newEpoch(epoch: string, init: Uint8Array): void {
    if (this.current) this.endSegment();
    this.epoch = epoch;
    this.inits.set(epoch, init);
    this.bytes += init.byteLength;
    this.pendingDiscontinuity = this.segments.length > 0 || this.pendingDiscontinuity;
    this.pruneInits();
    this.version++;
  }

  /** Media was left out (cluster resync): the next segment follows a discontinuity. */
  markGap(): void {
    if (this.current) this.endSegment();
    this.pendingDiscontinuity = true;
  }

  addPart(p: BuiltPart): AddResult {
    let seg = this.current;
    if (!seg || p.segmentStart) {
      if (seg) this.endSegment();
      seg = {
        msn: this.nextMsn++,
        epoch: this.epoch,
        parts: [],
        duration: 0,
        complete: false,
        discontinuity: this.pendingDiscontinuity,
        size: 0,
      };
      if (p.wallclockMs !== undefined) seg.wallclockMs = p.wallclockMs;
      this.pendingDiscontinuity = false;
      this.current = seg;
    }
    seg.parts.push({ index: seg.parts.length, duration: p.duration, independent: p.independent, bytes: p.bytes });
    seg.duration += p.duration;
    seg.size += p.bytes.byteLength;
    this.bytes += p.bytes.byteLength;
    if (!this.ready) this.longestPart = Math.max(this.longestPart, p.duration);
    else if (p.duration > this.partTarget + EPS) this.longParts++;
    this.version++;
    return this.enforceCap();
  }

  /** Completes the open segment: one buffer for its bytes, the parts become views into it. */
  endSegment(): void {
    const seg = this.current;
    if (!seg) return;
    this.current = undefined;
    const bytes = new Uint8Array(seg.size);
    let at = 0;
    for (const part of seg.parts) {
      bytes.set(part.bytes, at);
      part.bytes = bytes.subarray(at, at + part.bytes.byteLength);
      at += part.bytes.byteLength;
    }
    seg.bytes = bytes;
    seg.complete = true;
    this.segments.push(seg);
    if (!this.ready) {
      this.targetDuration = Math.max(this.opts.minTargetDuration ?? 1, Math.ceil(seg.duration - EPS));
      const longest = Math.max(this.opts.partTarget, this.longestPart);
      this.partTarget = Math.ceil(longest * 1000 - EPS * 1000) / 1000;
    } else if (Math.round(seg.duration) > this.targetDuration) this.longSegments++;
    while (this.segments.length > this.opts.segments) this.retire(this.segments.shift()!);
    while (this.retired.length > this.opts.segments) this.drop(this.retired.shift()!);
    this.pruneInits();
    this.version++;
  }

  /** The publisher left: the playlist gets EXT-X-ENDLIST. */
  end(): void {
    if (this.current) this.endSegment();
    this.ended = true;
    this.version++;
  }

  /** Media sequence number of the first segment listed. */
  get firstMsn(): number {
    return this.segments[0]?.msn ?? this.current?.msn ?? this.nextMsn;
  }

  /** The newest segment listed (the open one when it has parts) and its last part index, or undefined when empty. */
  get last(): { msn: number; part: number } | undefined {
    const seg = this.current ?? this.segments[this.segments.length - 1];
    return seg ? { msn: seg.msn, part: seg.parts.length - 1 } : undefined;
  }

  /** The part announced by EXT-X-PRELOAD-HINT: the next one to come (none once ended). */
  get hint(): { epoch: string; msn: number; part: number } | undefined {
    if (this.ended) return undefined;
    return this.current
      ? { epoch: this.current.epoch, msn: this.current.msn, part: this.current.parts.length }
      : { epoch: this.epoch, msn: this.nextMsn, part: 0 };
  }

  /**
   * Whether the playlist holds segment `msn` (complete), or with `part` that part or anything later
   * (RFC 8216bis §6.2.5.2: a part index past a complete segment's last means part 0 of the next one).
   */
  has(msn: number, part?: number): boolean {
    if (this.ended || msn < this.firstMsn) return true;
    const seg = this.segments.find((s) => s.msn === msn);
    if (seg) return part === undefined || part < seg.parts.length || this.has(msn + 1, 0);
    const cur = this.current;
    return cur !== undefined && cur.msn === msn && part !== undefined && part < cur.parts.length;
  }

  init(epoch: string): Uint8Array | undefined {
    return this.inits.get(epoch);
  }

  segment(epoch: string, msn: number): Uint8Array | undefined {
    const seg = this.find(epoch, msn);
    return seg?.complete ? seg.bytes : undefined;
  }

  part(epoch: string, msn: number, index: number): Uint8Array | undefined {
    return this.find(epoch, msn)?.parts[index]?.bytes;
  }

  private find(epoch: string, msn: number): LiveSegment | undefined {
    if (this.current?.msn === msn) return this.current.epoch === epoch ? this.current : undefined;
    return this.segments.find((s) => s.msn === msn && s.epoch === epoch) ?? this.retired.find((s) => s.msn === msn && s.epoch === epoch);
  }

  /** A segment leaves the playlist but stays downloadable for a while. */
  private retire(seg: LiveSegment): void {
    if (seg.discontinuity) this.discontinuitySequence++;
    this.retired.push(seg);
  }

  private drop(seg: LiveSegment): void {
    this.bytes -= seg.size;
  }

  private enforceCap(): AddResult {
    while (this.bytes > this.opts.maxBytes && this.retired.length > 0) this.drop(this.retired.shift()!);
    while (this.bytes > this.opts.maxBytes && this.segments.length > 0) {
      const seg = this.segments.shift()!;
      if (seg.discontinuity) this.discontinuitySequence++;
      this.drop(seg);
    }
    if (this.bytes <= this.opts.maxBytes) {
      this.pruneInits();
      return "ok";
    }
    // The open segment alone is over the cap: drop it too, and start again at a keyframe.
    const cur = this.current!;
    if (cur.discontinuity) this.discontinuitySequence++;
    this.drop(cur);
    this.current = undefined;
    this.pendingDiscontinuity = true;
    this.overflows++;
    this.pruneInits();
    return "overflow";
  }

  /** Forgets init segments no held segment uses (the current epoch's is always kept). */
  private pruneInits(): void {
    const used = new Set([this.epoch, ...this.segments.map((s) => s.epoch), ...this.retired.map((s) => s.epoch)]);
    if (this.current) used.add(this.current.epoch);
    for (const [epoch, init] of this.inits) {
      if (used.has(epoch)) continue;
      this.inits.delete(epoch);
      this.bytes -= init.byteLength;
    }
  }
}
