/**
 * Per-stream fragment inspection: given an init segment, tells for each media fragment whether it
 * starts with a video keyframe, where it starts in time, and its `prft` wallclock reference.
 */

import type { TrackInfo } from "../../src/container/types.ts";
import { parseWebmCluster, parseWebmInit } from "./ebml.ts";
import { parseMp4Fragment, parseMp4Init, SAMPLE_IS_NON_SYNC } from "./isobmff.ts";

/** Container of a stream, as the server names it. */
export type Format = "fmp4" | "webm";

/** What the player knows about one media fragment. */
export interface FragmentInfo {
  /** The fragment starts with a video sync sample (always true for audio-only streams). */
  keyframe: boolean;
  /** Some video sample is a sync sample: decoding can (re)start here (Chromium drops what precedes it). */
  syncPoint: boolean;
  /** Earliest decode time of the fragment in seconds of the stream's own timeline; NaN if unknown. */
  start: number;
  /** fMP4 `prft`: wallclock (ms since Unix epoch) at stream time `prftTime` (seconds). */
  prftWallclockMs?: number;
  prftTime?: number;
}

/** Inspects the fragments of one stream (one init segment). */
export type FragmentInspector = (fragment: Uint8Array) => FragmentInfo;

/** The container of some bytes: EBML magic means WebM, anything else is taken as fMP4. */
export function sniffFormat(bytes: Uint8Array): Format {
  return bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3 ? "webm" : "fmp4";
}

/**
 * Builds the inspector for a stream from its init segment. `tracks` (from the server's `stream`
 * message) fills in what the init segment does not say.
 */
export function createInspector(format: Format, init: Uint8Array, tracks: readonly TrackInfo[]): FragmentInspector {
  return format === "webm" ? webmInspector(init, tracks) : mp4Inspector(init, tracks);
}

function mp4Inspector(init: Uint8Array, described: readonly TrackInfo[]): FragmentInspector {
  const tracks = parseMp4Init(init);
  for (const d of described) {
    if (!tracks.has(d.id) && d.timescale)
      tracks.set(d.id, { id: d.id, handler: d.kind === "video" ? "vide" : "soun", timescale: d.timescale });
  }
  const video = [...tracks.values()].find((t) => t.handler === "vide")?.id;
  return (fragment) => {
    const f = parseMp4Fragment(fragment, tracks);
    let start = Number.NaN;
    for (const traf of f.trafs) {
      const scale = tracks.get(traf.trackId)?.timescale;
      if (traf.decodeTime !== undefined && scale) start = Math.min(Number.isNaN(start) ? Infinity : start, traf.decodeTime / scale);
    }
    let keyframe = true;
    let syncPoint = true;
    if (video !== undefined) {
      const v = f.trafs.find((t) => t.trackId === video);
      keyframe = v !== undefined && ((v.firstSampleFlags ?? 0) & SAMPLE_IS_NON_SYNC) === 0;
      syncPoint = keyframe || v?.anySync === true;
    }
    const info: FragmentInfo = { keyframe, syncPoint, start };
    const scale = f.prft && tracks.get(f.prft.trackId)?.timescale;
    if (f.prft && scale) {
      info.prftWallclockMs = f.prft.wallclockMs;
      info.prftTime = f.prft.mediaTime / scale;
    }
    return info;
  };
}

function webmInspector(init: Uint8Array, described: readonly TrackInfo[]): FragmentInspector {
  const meta = parseWebmInit(init);
  const video = meta.videoTrack ?? described.find((d) => d.kind === "video")?.id;
  const hasVideo = video !== undefined;
  return (fragment) => {
    const c = parseWebmCluster(fragment, video);
    return {
      keyframe: hasVideo ? c.keyframe === true : true,
      syncPoint: hasVideo ? c.anyKeyframe : true,
      start: c.timecode === undefined ? Number.NaN : (c.timecode * meta.timecodeScale) / 1e9,
    };
  };
}
