/**
 * The segment index of one recording file, pure: where each keyframe-to-keyframe segment starts
 * (byte offset, decode time, wallclock), kept in a small append-only sidecar text file:
 *
 *     sluice-recording 1 <fmp4|webm> <init bytes> <timescale> <start ms> <mime as a JSON string>
 *     s <offset> <decode time> <wallclock ms>      one line per keyframe fragment, after its bytes are written
 *     e <offset> <decode time> <wallclock ms>      once, when the file is closed: its end
 *
 * A sidecar cut short (a crash) parses up to its last whole valid line; without the `e` line the
 * last segment's end is unknown, and the file is scanned instead (`IndexScanner`).
 */

import type { ContainerFormat, FragmentEvent, ParserEvent } from "../container/types.ts";
import { prftWallclock } from "../stream/wallclock.ts";

export interface IndexHeader {
  format: ContainerFormat;
  /** Full MSE type of the init, e.g. `video/mp4; codecs="avc1.64001E,mp4a.40.2"`. */
  mime: string;
  /** Bytes of the init segment at the head of the file. */
  initBytes: number;
  /** Ticks per second of every decode time in the index (the video track's). */
  timescale: number;
  /** Wallclock (ms since the Unix epoch) of the first fragment. */
  startMs: number;
}

export interface IndexPoint {
  offset: number;
  decodeTime: number;
  wallclockMs: number;
}

export interface SegmentIndex {
  header: IndexHeader;
  /** Keyframe fragments, offsets strictly increasing. */
  points: IndexPoint[];
  /** The end of the last fragment; undefined while the file is written or after a crash. */
  end: IndexPoint | undefined;
}

/** One keyframe-to-keyframe segment of a file. */
export interface IndexedSegment {
  offset: number;
  length: number;
  /** Seconds. */
  duration: number;
  wallclockMs: number;
}

/** Longest mime accepted from a sidecar. */
const MAX_MIME = 512;
const HEADER_RE = /^sluice-recording 1 (fmp4|webm) (\d{1,15}) (\d{1,15}) (\d{1,15}) ("[^\n]*")$/;
const POINT_RE = /^([se]) (\d{1,15}) (\d{1,17}) (\d{1,15})$/;

export function headerLine(h: IndexHeader): string {
  return `sluice-recording 1 ${h.format} ${h.initBytes} ${h.timescale} ${Math.round(h.startMs)} ${JSON.stringify(h.mime)}\n`;
}

export function pointLine(kind: "s" | "e", p: IndexPoint): string {
  return `${kind} ${p.offset} ${p.decodeTime} ${Math.round(p.wallclockMs)}\n`;
}

/**
 * Parses sidecar text: undefined when the header is missing or invalid; otherwise every whole valid
 * line up to the first bad one (a partial last line, garbage, offsets going backwards, lines past `e`).
 */
export function parseIndex(text: string): SegmentIndex | undefined {
  const lines = text.split("\n");
  lines.pop(); // the text after the last newline: empty, or a line cut short
  const h = HEADER_RE.exec(lines[0] ?? "");
  if (!h) return undefined;
  let mime: unknown;
  try {
    mime = JSON.parse(h[5]!);
  } catch {
    return undefined;
  }
  const timescale = Number(h[3]);
  if (typeof mime !== "string" || mime.length > MAX_MIME || timescale === 0) return undefined;
  const header: IndexHeader = { format: h[1] as ContainerFormat, mime, initBytes: Number(h[2]), timescale, startMs: Number(h[4]) };
  const points: IndexPoint[] = [];
  let end: IndexPoint | undefined;
  for (const line of lines.slice(1)) {
    const m = POINT_RE.exec(line);
    if (!m || end) break;
    const p = { offset: Number(m[2]), decodeTime: Number(m[3]), wallclockMs: Number(m[4]) };
    const prev = points.at(-1);
    if (p.offset < header.initBytes || (prev && (p.offset <= prev.offset || p.decodeTime < prev.decodeTime))) break;
    if (m[1] === "e") {
      if (!prev) break;
      end = p;
    } else points.push(p);
  }
  return { header, points, end };
}

/** Longest keyframe-to-keyframe span taken from an index, seconds (a GOP of 10 minutes is not a live stream). */
const MAX_SEGMENT_SECONDS = 600;

/**
 * The segments of a file of `fileBytes` bytes: keyframe to keyframe, the last one up to `end`. Without
 * a valid `end` the last segment is left out (its end is not known yet).
 */
export function indexSegments(index: SegmentIndex, fileBytes: number): IndexedSegment[] {
  const { points, header } = index;
  const end = index.end && index.end.offset <= fileBytes ? index.end : undefined;
  const bounds = end ? [...points, end] : points;
  const out: IndexedSegment[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const a = bounds[i]!;
    const b = bounds[i + 1]!;
    if (b.offset > fileBytes) break;
    const duration = (b.decodeTime - a.decodeTime) / header.timescale;
    // A decode-time jump (a publisher's timestamps, or a damaged index) ends the usable index there:
    // no keyframe-to-keyframe span of a live stream lasts longer than MAX_SEGMENT_SECONDS.
    if (!(duration >= 0 && duration <= MAX_SEGMENT_SECONDS)) break;
    out.push({ offset: a.offset, length: b.offset - a.offset, duration, wallclockMs: a.wallclockMs });
  }
  return out;
}

/** Whether the index covers the whole file (closed cleanly, nothing after its end). */
export function indexIsComplete(index: SegmentIndex, fileBytes: number): boolean {
  return index.end !== undefined && index.end.offset === fileBytes;
}

/**
 * Tracks the end of the written fragments on the index timescale: the last fragment on that
 * timescale (the video track's; audio-only fragments of a stream with video are on another) plus its
 * stated duration, else plus the last step between two such fragments.
 */
export class EndTracker {
  private last: { decodeTime: number; duration: number | undefined; wallclockMs: number } | undefined;
  private step = 0;

  constructor(readonly timescale: number) {}

  add(frag: Pick<FragmentEvent, "decodeTime" | "timescale" | "duration">, wallclockMs: number): void {
    if (frag.timescale !== this.timescale) return;
    if (this.last && frag.decodeTime > this.last.decodeTime) this.step = frag.decodeTime - this.last.decodeTime;
    this.last = { decodeTime: frag.decodeTime, duration: frag.duration, wallclockMs };
  }

  /** The end point at byte `offset`; undefined before the first fragment. */
  endAt(offset: number): IndexPoint | undefined {
    const l = this.last;
    if (!l) return undefined;
    const d = l.duration ?? this.step;
    return { offset, decodeTime: l.decodeTime + d, wallclockMs: l.wallclockMs + (d / this.timescale) * 1000 };
  }
}

/**
 * Rebuilds the index of a file from its container events in file order (Sluice's own parsers over
 * the file's bytes; the file is exactly init + fragments). A fragment cut short by a crash is never
 * emitted, so the index ends at the last complete fragment. Wallclocks come from `prft` when present,
 * else from `startMs` (the file name's) plus media time.
 */
export class IndexScanner {
  private offset = 0;
  private index: SegmentIndex | undefined;
  private ends: EndTracker | undefined;
  private firstDecode = 0;
  private done = false;

  constructor(private readonly startMs: number) {}

  /** Takes the next event; false once scanning should stop (a second init: nothing after it belongs here). */
  add(ev: ParserEvent): boolean {
    if (this.done) return false;
    if (ev.type === "init") {
      if (this.offset > 0) return this.stop();
      this.offset = ev.bytes.byteLength;
      this.index = {
        header: {
          format: ev.format === "webm" ? "webm" : "fmp4",
          mime: ev.mime,
          initBytes: this.offset,
          timescale: 0,
          startMs: this.startMs,
        },
        points: [],
        end: undefined,
      };
      return true;
    }
    const index = this.index;
    if (!index) return this.stop();
    const at = this.offset;
    this.offset += ev.bytes.byteLength;
    if (!this.ends) {
      if (!ev.keyframe || !(ev.timescale > 0)) return true; // a recording starts with a keyframe; skip anything before
      index.header.timescale = ev.timescale;
      this.ends = new EndTracker(ev.timescale);
      this.firstDecode = ev.decodeTime;
    }
    const wall = prftWallclock(ev) ?? this.startMs + ((ev.decodeTime - this.firstDecode) / index.header.timescale) * 1000;
    if (ev.keyframe && ev.timescale === index.header.timescale)
      index.points.push({ offset: at, decodeTime: ev.decodeTime, wallclockMs: wall });
    this.ends.add(ev, wall);
    return true;
  }

  private stop(): false {
    this.done = true;
    return false;
  }

  /** The index of everything scanned, with its end; undefined when no keyframe fragment was found. */
  result(): SegmentIndex | undefined {
    const index = this.index;
    if (!index || index.points.length === 0 || !this.ends) return undefined;
    return { ...index, end: this.ends.endAt(this.offset) };
  }
}
