/** Small helpers over `TimeRanges` (buffered ranges of a media element or SourceBuffer). */

/** End of the last range, or undefined when nothing is buffered. */
export function lastEnd(r: TimeRanges): number | undefined {
  return r.length > 0 ? r.end(r.length - 1) : undefined;
}

/** Start of the first range, or undefined when nothing is buffered. */
export function firstStart(r: TimeRanges): number | undefined {
  return r.length > 0 ? r.start(0) : undefined;
}

/** Index of the range containing `t` (with `slack` seconds of tolerance), or -1. */
export function rangeIndexAt(r: TimeRanges, t: number, slack = 0): number {
  for (let i = 0; i < r.length; i++) if (t >= r.start(i) - slack && t <= r.end(i) + slack) return i;
  return -1;
}

/** Start of the first range that begins after `t`, or undefined. */
export function nextStartAfter(r: TimeRanges, t: number): number | undefined {
  for (let i = 0; i < r.length; i++) if (r.start(i) > t) return r.start(i);
  return undefined;
}
