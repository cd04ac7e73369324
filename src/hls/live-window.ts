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
}

/** What `addPart` did: `overflow` means the open segment alone outgrew the cap and everything was dropped. */
export type AddResult = "ok" | "overflow";

/**
 * One stream's window. `addPart` appends to the open segment, `endSegment` completes it, `newEpoch`
 * switches to a new init (the next segment gets EXT-X-DISCONTINUITY and its own EXT-X-MAP). Segments
 * leaving the playlist stay downloadable for as many segments again (RFC 8216bis §6.2.2), unless the
 * byte cap needs their room; the cap drops oldest first, and an open segment that alone outgrows it
 * drops everything (the next segment then starts at a keyframe after a discontinuity). `version`
 * changes with every change, for waiters and rendering caches.
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
  /** EXT-X-TARGETDURATION: the ceiling of the longest segment seen, never lowered. */
  targetDuration = 1;
  /** The longest part seen, seconds rounded up to ms, never lowered (0 before the first part). */
  partTarget = 0;
  ended = false;
  version = 0;
  bytes = 0;
  /** Times the open segment outgrew the cap. */
  overflows = 0;
  private retired: LiveSegment[] = [];
  private readonly inits = new Map<string, Uint8Array>();
  private pendingDiscontinuity = false;

  constructor(opts: LiveWindowOptions, epoch: string, init: Uint8Array, firstMsn = 0) {
    this.opts = opts;
    this.epoch = epoch;
    this.inits.set(epoch, init);
    this.bytes = init.byteLength;
    this.nextMsn = firstMsn;
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
    this.partTarget = Math.max(this.partTarget, Math.ceil(p.duration * 1000 - 1e-6) / 1000);
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
    this.targetDuration = Math.max(this.targetDuration, Math.ceil(seg.duration - 1e-6));
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
