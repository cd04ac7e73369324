/**
 * Recorded fragment arrival traces (made by record.ts, which states the commands) and what the
 * player would make of them: the buffered end after each fragment (the intersection of the video and
 * audio ranges, as a SourceBuffer with both tracks reports it) and when each append completes, with
 * appends one at a time like MseSink.
 */

import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The JSON written by record.ts. */
interface ArrivalTrace {
  description: string;
  publisher: string;
  columns: string[];
  /** [arrivalMs, videoStart, videoEnd, audioStart, audioEnd, bytes]; null for a track not in the fragment. */
  rows: Array<[number, number | null, number | null, number | null, number | null, number]>;
}

/** One fragment as the player sees it. */
export interface TraceFragment {
  /** Arrival, ms since the first fragment. */
  at: number;
  /** Earliest start over its tracks (what Cadence observes), seconds. */
  start: number;
  /** Buffered end once it is appended (video and audio intersected), seconds; NaN before both tracks arrived. */
  end: number;
  bytes: number;
}

export type TraceName = "rtmp-frame" | "fmp4-100ms" | "fmp4-frame";

export function loadTrace(name: TraceName): { description: string; fragments: TraceFragment[] } {
  const t = JSON.parse(readFileSync(resolve(import.meta.dir, `${name}.json`), "utf8")) as ArrivalTrace;
  let video = Number.NEGATIVE_INFINITY;
  let audio = Number.NEGATIVE_INFINITY;
  const fragments = t.rows.map(([at, vs, ve, as, ae, bytes]) => {
    if (ve !== null) video = Math.max(video, ve);
    if (ae !== null) audio = Math.max(audio, ae);
    const end = Math.min(video, audio);
    return {
      at,
      start: Math.min(vs ?? Number.POSITIVE_INFINITY, as ?? Number.POSITIVE_INFINITY),
      end: Number.isFinite(end) ? end : Number.NaN,
      bytes,
    };
  });
  return { description: t.description, fragments };
}

/**
 * The same fragments delivered late by a random 0–`maxDelayMs` each (seeded, uniform), in order: a
 * fragment never overtakes the one before it, like one TCP connection.
 */
export function jittered(fragments: TraceFragment[], maxDelayMs: number, seed = 1): TraceFragment[] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  let last = Number.NEGATIVE_INFINITY;
  return fragments.map((f) => {
    last = Math.max(last, f.at + maxDelayMs * rnd());
    return { ...f, at: last };
  });
}

/** A perfectly regular stream: `count` fragments of `interval` s, one every `interval` s after a GOP burst of `burst`. */
export function steady(interval: number, count: number, burst = 0): TraceFragment[] {
  return Array.from({ length: count }, (_, i) => ({
    at: Math.max(0, i - burst) * interval * 1000,
    start: 100 + i * interval,
    end: 100 + (i + 1) * interval,
    bytes: 10_000,
  }));
}

/** When each append completes (ms) and whether nothing else had arrived by then: one append at a time, `msPerAppend` + bytes at 100 kB/ms each. */
export function appendTimes(fragments: TraceFragment[], msPerAppend = 1): Array<{ done: number; caughtUp: boolean }> {
  const out: Array<{ done: number; caughtUp: boolean }> = [];
  let free = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < fragments.length; i++) {
    const f = fragments[i]!;
    free = Math.max(free, f.at) + msPerAppend + f.bytes / 100_000;
    out.push({ done: free, caughtUp: !(fragments[i + 1] && fragments[i + 1]!.at <= free) });
  }
  return out;
}
