/**
 * The VOD media playlist over recordings (RFC 8216bis), pure: one section per recording file, each
 * segment a keyframe-to-keyframe byte range of the file.
 */

import type { IndexedSegment } from "../record/segment-index.ts";

/** One recording file's part of the playlist. */
export interface VodSection {
  /** The file's URI as it goes into the playlist (query included, already percent-encoded). */
  uri: string;
  /** Bytes of the init segment at the head of the file. */
  initBytes: number;
  /** Consecutive segments of the file, at least one. */
  segments: readonly IndexedSegment[];
}

/**
 * The playlist text. Tags, in order: EXTM3U; EXT-X-VERSION 7 (byte ranges need 4 and EXT-X-MAP in a
 * playlist that is not I-frames-only needs 6, §8; 7 as Apple's authoring spec asks for fMP4);
 * EXT-X-TARGETDURATION, the ceiling of the longest segment (§4.4.3.1: every EXTINF rounded to the
 * nearest integer must not exceed it); EXT-X-MEDIA-SEQUENCE 0; EXT-X-PLAYLIST-TYPE VOD;
 * EXT-X-INDEPENDENT-SEGMENTS (every segment starts with a keyframe, §4.4.2.1). Per file: an
 * EXT-X-DISCONTINUITY before every file but the first (§4.4.4.3: timestamps restart), EXT-X-MAP with
 * the init's BYTERANGE (§4.4.4.5), EXT-X-PROGRAM-DATE-TIME of its first listed segment (§4.4.4.6),
 * then each segment as EXTINF + EXT-X-BYTERANGE with an explicit offset (§4.4.4.2) + URI. EXT-X-ENDLIST last.
 */
export function writeVodPlaylist(sections: readonly VodSection[]): string {
  let longest = 0;
  for (const s of sections) for (const seg of s.segments) longest = Math.max(longest, seg.duration);
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(longest))}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-INDEPENDENT-SEGMENTS",
  ];
  sections
    .filter((s) => s.segments.length > 0)
    .forEach((s, i) => {
      if (i > 0) lines.push("#EXT-X-DISCONTINUITY");
      lines.push(`#EXT-X-MAP:URI="${s.uri}",BYTERANGE="${s.initBytes}@0"`);
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.segments[0]!.wallclockMs).toISOString()}`);
      for (const seg of s.segments) {
        lines.push(`#EXTINF:${seg.duration.toFixed(3)},`, `#EXT-X-BYTERANGE:${seg.length}@${seg.offset}`, s.uri);
      }
    });
  lines.push("#EXT-X-ENDLIST");
  return `${lines.join("\n")}\n`;
}
