/**
 * What the player needs to know about each media fragment, read by the same container code the server
 * uses (`src/container/inspect.ts`, bundled into the player).
 */

import { ParseError } from "../../src/container/errors.ts";
import { inspectFragment, readInitFacts } from "../../src/container/inspect.ts";

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

/**
 * Builds the inspector for a stream from its init segment. An init the container code cannot read
 * (the server validated it with the same code, so only a broken server sends one) leaves every
 * fragment a sync point of unknown start: MediaSource then decides, and reports what it rejects.
 */
export function createInspector(init: Uint8Array): FragmentInspector {
  let facts: ReturnType<typeof readInitFacts>;
  try {
    facts = readInitFacts(init);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return () => ({ keyframe: true, syncPoint: true, start: Number.NaN });
  }
  return (fragment) => {
    const f = inspectFragment(facts, fragment);
    const info: FragmentInfo = { keyframe: f.keyframe, syncPoint: f.syncPoint, start: f.start };
    if (f.prftWallclockMs !== undefined && f.prftMediaTime !== undefined && f.timescale > 0) {
      info.prftWallclockMs = f.prftWallclockMs;
      info.prftTime = f.prftMediaTime / f.timescale;
    }
    return info;
  };
}
