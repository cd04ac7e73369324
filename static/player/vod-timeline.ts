/**
 * A recording's timeline for the MSE loader: the playlist's segments with absolute URLs (the viewer
 * token carried), their place on the element's timeline (EXTINF sums: element time = playlist time)
 * and their init section. Pure.
 */

import type { ByteRange, MediaPlaylist } from "../../src/hls/playlist-parse.ts";
import { resolveWithToken } from "./hls-url.ts";

/** A resource, or a sub-range of one, to fetch. */
export interface Resource {
  url: string;
  range?: ByteRange;
  /** Identifies the bytes (URL and range): equal keys, equal bytes. */
  key: string;
}

export interface TimelineSegment {
  start: number;
  end: number;
  media: Resource;
  init: Resource;
  /** Discontinuity sequence: segments with the same one share a media timeline. */
  disc: number;
}

function resource(uri: string, base: string, range: ByteRange | undefined): Resource {
  const url = resolveWithToken(uri, base);
  const r: Resource = { url, key: range ? `${range.offset}+${range.length} ${url}` : url };
  if (range) r.range = range;
  return r;
}

/** Builds the timeline; throws when a segment has no EXT-X-MAP (MPEG-TS segments need native HLS). */
export function buildTimeline(pl: MediaPlaylist, playlistUrl: string): TimelineSegment[] {
  return pl.segments.map((s) => {
    if (!s.map) throw new Error("segments without #EXT-X-MAP (MPEG-TS?) cannot be played with Media Source Extensions here");
    return {
      start: s.start,
      end: s.start + s.duration,
      media: resource(s.uri, playlistUrl, s.byteRange),
      init: resource(s.map.uri, playlistUrl, s.map.byteRange),
      disc: s.discontinuitySequence,
    };
  });
}

/** Index of the segment playing at element time `t` (clamped to the first / last segment); -1 if none. */
export function segmentAt(segments: readonly TimelineSegment[], t: number): number {
  if (segments.length === 0) return -1;
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segments[mid]!.start <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The HTTP Range header value for a sub-range (RFC 9110 §14.1.2: the last byte position is inclusive). */
export function rangeHeader(r: ByteRange): string {
  return `bytes=${r.offset}-${r.offset + r.length - 1}`;
}
