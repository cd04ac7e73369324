import { ParseError } from "../errors.ts";
import { readUint } from "./codecs.ts";
import { forEachChild, ID, readVint } from "./ebml.ts";

/**
 * What a WebM Cluster element's children say about it, gathered child by child so an unknown-size
 * Cluster can be scanned while it streams in. Only block headers are read, never frame payloads.
 */
export interface WebmClusterScan {
  /** Cluster Timestamp (RFC 9559, Cluster \ Timestamp element) in TimecodeScale units; undefined until seen. */
  timecode: number | undefined;
  /** Whether a block of a video track was seen; the first one decides `keyframe`. */
  sawVideo: boolean;
  /** The first video block is a keyframe. */
  keyframe: boolean;
  /** Some video block is a keyframe (one may sit mid-Cluster: Matroska muxers cut Clusters by size or time). */
  anyKeyframe: boolean;
}

/** An empty scan, before the Cluster's first child. */
export function newWebmClusterScan(): WebmClusterScan {
  return { timecode: undefined, sawVideo: false, keyframe: false, anyKeyframe: false };
}

/**
 * Feeds one Cluster child (`id`, body `bytes[start, end)`) to `scan`. `videoTracks` holds the
 * TrackNumbers of video tracks. Throws `ParseError("malformed")` on a block too short for its header.
 */
export function scanWebmClusterChild(
  scan: WebmClusterScan,
  bytes: Uint8Array,
  id: number,
  start: number,
  end: number,
  videoTracks: ReadonlySet<number>,
): void {
  if (id === ID.Timecode) {
    scan.timecode = readUint(bytes, start, end);
    return;
  }
  if (scan.anyKeyframe || videoTracks.size === 0) return;
  let track: number;
  let key: boolean;
  if (id === ID.SimpleBlock) {
    const header = blockHeader(bytes, start, end);
    track = header.track;
    // SimpleBlock flags bit 0x80 = Keyframe (RFC 9559, SimpleBlock Structure).
    key = (bytes[header.flagsAt]! & 0x80) !== 0;
  } else if (id === ID.BlockGroup) {
    track = -1;
    let referenced = false;
    forEachChild(bytes, start, end, (child, s, e) => {
      if (child === ID.Block) track = blockHeader(bytes, s, e).track;
      else if (child === ID.ReferenceBlock) referenced = true;
    });
    // A Block without any ReferenceBlock is a keyframe (RFC 9559, ReferenceBlock element).
    key = !referenced;
  } else {
    return;
  }
  if (!videoTracks.has(track)) return;
  if (!scan.sawVideo) scan.keyframe = key;
  scan.sawVideo = true;
  scan.anyKeyframe = key;
}

/**
 * How many leading body bytes of a Cluster child `scanWebmClusterChild` needs (0: none, skip the call):
 * the whole Timestamp and BlockGroup, a SimpleBlock's header only, nothing once a video keyframe was seen.
 */
export function webmClusterBytesNeeded(scan: WebmClusterScan, id: number, size: number, videoTracks: ReadonlySet<number>): number {
  if (id === ID.Timecode) return size;
  if (scan.anyKeyframe || videoTracks.size === 0) return 0;
  // Track number VINT (at most 8 bytes) + 16-bit timestamp + flags (RFC 9559, SimpleBlock Structure).
  if (id === ID.SimpleBlock) return Math.min(size, 11);
  return id === ID.BlockGroup ? size : 0;
}

/** Track number and the offset of the flags byte of a Block/SimpleBlock body (RFC 9559, Block Structure). */
function blockHeader(bytes: Uint8Array, start: number, end: number): { track: number; flagsAt: number } {
  const { value, length } = readVint(bytes, start, end);
  const flagsAt = start + length + 2; // after the track number and the signed 16-bit relative timestamp
  if (flagsAt >= end) throw new ParseError("malformed", `block at ${start} is shorter than its header`);
  return { track: value, flagsAt };
}

/** Scans every child of a complete Cluster body `bytes[start, end)`. */
export function scanWebmCluster(bytes: Uint8Array, start: number, end: number, videoTracks: ReadonlySet<number>): WebmClusterScan {
  const scan = newWebmClusterScan();
  forEachChild(bytes, start, end, (id, s, e) => scanWebmClusterChild(scan, bytes, id, s, e, videoTracks));
  return scan;
}
