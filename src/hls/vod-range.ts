/**
 * The time range of a VOD playlist over recordings, pure: `from` / `to` query values (ISO 8601 with a
 * zone, or epoch milliseconds) validated with messages that say what to fix, and the segments that
 * overlap the range.
 */

import type { IndexedSegment } from "../record/segment-index.ts";

export interface VodRange {
  fromMs: number;
  toMs: number;
}

/** Longest accepted query value. */
const MAX_VALUE = 64;
const EPOCH_MS_RE = /^\d{1,15}$/;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Parses one time value; a string error when it is neither form. */
function parseTime(name: string, value: string): number | string {
  const what = `${name} must be an ISO 8601 time with a zone (e.g. 2026-12-02T10:30:00Z) or epoch milliseconds`;
  if (value.length > MAX_VALUE) return `${what}; got ${value.length} characters`;
  if (EPOCH_MS_RE.test(value)) return Number(value);
  const m = ISO_RE.exec(value);
  if (!m) return what;
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number) as [number, number, number, number, number];
  const t = Date.parse(value);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || Number.isNaN(t))
    return `${what}; ${value} is not a valid time`;
  return t;
}

/**
 * The range asked for by `from` and `to` (either may be absent: from the first recording, up to
 * `nowMs`), or an error message for a 400.
 */
export function parseVodRange(from: string | undefined, to: string | undefined, nowMs: number): VodRange | { error: string } {
  const f = from === undefined ? 0 : parseTime("from", from);
  if (typeof f === "string") return { error: f };
  const t = to === undefined ? nowMs : parseTime("to", to);
  if (typeof t === "string") return { error: t };
  if (f > t) return { error: `from (${new Date(f).toISOString()}) is after to (${new Date(t).toISOString()})` };
  return { fromMs: f, toMs: t };
}

/** The segments (in order) with a positive duration that overlap `range` in wallclock. */
export function segmentsInRange(segments: readonly IndexedSegment[], range: VodRange): IndexedSegment[] {
  return segments.filter((s) => s.duration > 0 && s.wallclockMs < range.toMs && s.wallclockMs + s.duration * 1000 > range.fromMs);
}
