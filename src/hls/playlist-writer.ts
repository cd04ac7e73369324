/**
 * The LL-HLS media playlist of a live window (RFC 8216bis with the low-latency extensions), pure.
 */

import type { LiveSegment, LiveWindow } from "./live-window.ts";
import { initName, partName, segmentName } from "./media-names.ts";

export interface PlaylistOptions {
  /** Answer with a Playlist Delta Update (`_HLS_skip=YES|v2`, §6.2.5.1) when segments can be skipped. */
  skip?: boolean;
  /** Appended to every URI, e.g. `?token=…` (already percent-encoded), or "". */
  query?: string;
}

/** Seconds with up to 5 decimals (EXTINF, part durations). */
function secs(x: number): string {
  return String(Math.round(x * 1e5) / 1e5);
}

/** Seconds rounded up to ms (PART-TARGET, hold-backs): never below the value it stands for. */
function secsUp(x: number): string {
  return String(Math.ceil(x * 1000 - 1e-6) / 1000);
}

/** PART-HOLD-BACK: three part targets (§4.4.3.8: at least twice, SHOULD be at least three times). */
function partHoldBack(w: LiveWindow): number {
  return (3 * Math.round(w.partTarget * 1000)) / 1000;
}

/** CAN-SKIP-UNTIL, the Skip Boundary: six target durations (§4.4.3.8: at least six). */
function skipBoundary(w: LiveWindow): number {
  return 6 * w.targetDuration;
}

/**
 * How many leading segments a delta update leaves out: complete segments whose end lies at least the
 * Skip Boundary before the end of the playlist (the open segment's parts included).
 */
export function skippableSegments(w: LiveWindow): number {
  const total = w.segments.reduce((n, s) => n + s.duration, 0) + (w.current?.duration ?? 0);
  const boundary = skipBoundary(w);
  let end = 0;
  let n = 0;
  for (const s of w.segments) {
    end += s.duration;
    if (total - end < boundary) break;
    n++;
  }
  return n;
}

/**
 * Writes the playlist. Header, in order: EXTM3U, EXT-X-VERSION (6: EXT-X-MAP in a media playlist
 * that is not I-frames-only, §8; 9 for a delta update's EXT-X-SKIP), EXT-X-TARGETDURATION,
 * EXT-X-SERVER-CONTROL (CAN-BLOCK-RELOAD, PART-HOLD-BACK, CAN-SKIP-UNTIL), EXT-X-PART-INF,
 * EXT-X-MEDIA-SEQUENCE, EXT-X-DISCONTINUITY-SEQUENCE when non-zero, EXT-X-SKIP for a delta update.
 * Each segment: EXT-X-DISCONTINUITY when it follows one, EXT-X-MAP when its epoch differs from the
 * previous listed segment's, EXT-X-PROGRAM-DATE-TIME, its EXT-X-PART tags when it lies within three
 * target durations of the end (§6.2.2), then EXTINF + URI once complete. Then EXT-X-PRELOAD-HINT for
 * the next part, or EXT-X-ENDLIST once the publisher left. The window must be `ready` (its target
 * duration and part target fixed). Never EXT-X-INDEPENDENT-SEGMENTS: a segment closed to stay within the
 * target duration starts mid-GOP, its first part without INDEPENDENT=YES (§4.4.2.1, §6.2.1).
 */
export function writeLivePlaylist(w: LiveWindow, opts: PlaylistOptions = {}): string {
  const q = opts.query ?? "";
  const skipped = opts.skip ? skippableSegments(w) : 0;
  const lines = [
    "#EXTM3U",
    `#EXT-X-VERSION:${skipped > 0 ? 9 : 6}`,
    `#EXT-X-TARGETDURATION:${w.targetDuration}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${secsUp(partHoldBack(w))},CAN-SKIP-UNTIL=${skipBoundary(w)}`,
    `#EXT-X-PART-INF:PART-TARGET=${secsUp(w.partTarget)}`,
    `#EXT-X-MEDIA-SEQUENCE:${w.firstMsn}`,
  ];
  if (w.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${w.discontinuitySequence}`);
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  const listed: LiveSegment[] = w.segments.slice(skipped);
  if (w.current) listed.push(w.current);
  // Parts are listed for the segments that end within three target durations of the playlist's end.
  let fromEnd = 0;
  const withParts = new Set<LiveSegment>();
  for (let i = listed.length - 1; i >= 0 && fromEnd < 3 * w.targetDuration; i--) {
    withParts.add(listed[i]!);
    fromEnd += listed[i]!.duration;
  }
  let epoch: string | undefined;
  for (const s of listed) {
    if (s.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
    if (s.epoch !== epoch) lines.push(`#EXT-X-MAP:URI="${initName(s.epoch)}${q}"`);
    epoch = s.epoch;
    if (s.wallclockMs !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.wallclockMs).toISOString()}`);
    if (withParts.has(s)) {
      for (const p of s.parts) {
        const independent = p.independent ? ",INDEPENDENT=YES" : "";
        lines.push(`#EXT-X-PART:DURATION=${secs(p.duration)},URI="${partName(s.epoch, s.msn, p.index)}${q}"${independent}`);
      }
    }
    if (s.complete) lines.push(`#EXTINF:${secs(s.duration)},`, `${segmentName(s.epoch, s.msn)}${q}`);
  }
  const hint = w.hint;
  if (hint) {
    // A hint into a new epoch needs its init first (§4.4.5.3 TYPE=MAP).
    if (hint.epoch !== epoch) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=MAP,URI="${initName(hint.epoch)}${q}"`);
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partName(hint.epoch, hint.msn, hint.part)}${q}"`);
  }
  if (w.ended) lines.push("#EXT-X-ENDLIST");
  return `${lines.join("\n")}\n`;
}
