/**
 * Fragment inspection for code that holds whole units rather than a byte stream: the player (which gets
 * the init and each fragment as WebSocket messages) and anything else given finished units. The facts
 * come from the same readers the push parsers use (`fmp4/moof.ts`, `webm/webm-cluster.ts`), so server
 * and player agree on what a keyframe, a sync point and a fragment's start are.
 */

import { ParseError } from "./errors.ts";
import { MOOF, MOOV, PRFT } from "./fmp4/box-types.ts";
import { type BoxRange, readBoxHeader } from "./fmp4/boxes.ts";
import { readFragment } from "./fmp4/moof.ts";
import { type MovieInfo, parseMoov } from "./fmp4/moov.ts";
import type { ContainerFormat, FragmentEvent } from "./types.ts";
import { parseInfo, parseTracks } from "./webm/codecs.ts";
import { forEachChild, ID, readHeader, UNKNOWN_SIZE } from "./webm/ebml.ts";
import { scanWebmCluster } from "./webm/webm-cluster.ts";

/** What a fragment tells about itself (a `FragmentEvent` without its bytes). */
export type FragmentFacts = Omit<FragmentEvent, "type" | "bytes">;

/** What `inspectFragment` needs from a stream's init segment, read once per init. */
export type InitFacts =
  | { format: "fmp4"; movie: MovieInfo }
  | { format: "webm"; timescale: number; videoTracks: ReadonlySet<number>; hasVideo: boolean };

const EBML_MAGIC = 0x1a45dfa3;

/** The container of an init segment: the EBML magic means WebM, anything else is taken as fMP4. */
export function initFormat(init: Uint8Array): ContainerFormat {
  return init.byteLength >= 4 && new DataView(init.buffer, init.byteOffset, 4).getUint32(0) === EBML_MAGIC ? "webm" : "fmp4";
}

/** Reads a whole init segment (fMP4 `ftyp`+`moov`, or WebM EBML header + Segment head). Throws `ParseError`. */
export function readInitFacts(init: Uint8Array): InitFacts {
  if (initFormat(init) === "webm") {
    let timecodeScale: number | undefined;
    let tracks: ReturnType<typeof parseTracks> = [];
    for (let pos = 0; pos < init.byteLength; ) {
      const h = readHeader(init, pos);
      if (!h) throw new ParseError("malformed", `truncated element header at ${pos} of the init segment`);
      const body = pos + h.headerLength;
      if (h.id !== ID.Segment) {
        pos = body + h.size;
        continue;
      }
      const end = h.size === UNKNOWN_SIZE ? init.byteLength : Math.min(init.byteLength, body + h.size);
      forEachChild(init, body, end, (id, s, e) => {
        if (id === ID.Info) timecodeScale = parseInfo(init.subarray(s, e));
        else if (id === ID.Tracks) tracks = parseTracks(init.subarray(s, e), timecodeScale ?? 1_000_000);
      });
      break;
    }
    const videoTracks = new Set(tracks.filter((t) => t.kind === "video").map((t) => t.id));
    return { format: "webm", timescale: 1e9 / (timecodeScale ?? 1_000_000), videoTracks, hasVideo: videoTracks.size > 0 };
  }
  const moov = topLevelBoxes(init).find((b) => b.type === MOOV);
  if (!moov) throw new ParseError("malformed", "the init segment has no moov box");
  return { format: "fmp4", movie: parseMoov(init, moov.start, moov.end) };
}

/**
 * The facts of one whole fragment of the stream whose init gave `init`: fMP4 `[styp|sidx|prft|emsg]* moof
 * mdat` (the last `prft` before the `moof` counts) or one WebM Cluster (known or unknown size). Tolerant:
 * a fragment it cannot read yields `keyframe` and `syncPoint` false and `start` NaN instead of an error,
 * since a viewer must keep playing what it can.
 */
export function inspectFragment(init: InitFacts, bytes: Uint8Array): FragmentFacts {
  try {
    return init.format === "fmp4" ? inspectMp4(init.movie, bytes) : inspectWebm(init, bytes);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return { keyframe: false, syncPoint: false, decodeTime: 0, timescale: 0, start: Number.NaN };
  }
}

function inspectMp4(movie: MovieInfo, bytes: Uint8Array): FragmentFacts {
  let prft: BoxRange | undefined;
  for (const box of topLevelBoxes(bytes)) {
    if (box.type === PRFT) prft = box;
    else if (box.type === MOOF) {
      const { type: _type, bytes: _bytes, ...facts } = readFragment(bytes, bytes, box, prft, movie);
      return facts;
    }
  }
  throw new ParseError("malformed", "a fragment without a moof box");
}

function inspectWebm(init: Extract<InitFacts, { format: "webm" }>, bytes: Uint8Array): FragmentFacts {
  const h = readHeader(bytes, 0);
  if (!h || h.id !== ID.Cluster) throw new ParseError("malformed", "a WebM fragment must be one Cluster");
  const end = h.size === UNKNOWN_SIZE ? bytes.byteLength : Math.min(bytes.byteLength, h.headerLength + h.size);
  const scan = scanWebmCluster(bytes, h.headerLength, end, init.videoTracks);
  if (scan.timecode === undefined) throw new ParseError("malformed", "a Cluster without a Timestamp element");
  return {
    keyframe: !init.hasVideo || scan.keyframe,
    syncPoint: !init.hasVideo || scan.anyKeyframe,
    decodeTime: scan.timecode,
    timescale: init.timescale,
    start: scan.timecode / init.timescale,
  };
}

/** The top-level boxes of a whole unit (payload ranges); stops at the first box that does not fit. */
function topLevelBoxes(bytes: Uint8Array): BoxRange[] {
  const out: BoxRange[] = [];
  for (let pos = 0; pos + 8 <= bytes.byteLength; ) {
    const h = readBoxHeader(bytes.subarray(pos, pos + 16), Number.MAX_SAFE_INTEGER);
    if (!h || pos + h.size > bytes.byteLength) break;
    out.push({ type: h.type, start: pos + h.headerSize, end: pos + h.size });
    pos += h.size;
  }
  return out;
}
