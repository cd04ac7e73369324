import { ParseError } from "../errors.ts";
import { readUint } from "./codecs.ts";
import { forEachChild, ID, readVint } from "./ebml.ts";

/**
 * What a Cluster's children say about it, gathered child by child so an unknown-size Cluster can be
 * scanned while it streams in. Only block headers are read, never frame payloads.
 */
export interface ClusterScan {
  /** Cluster Timestamp (RFC 9559, Cluster \ Timestamp element) in TimecodeScale units; undefined until seen. */
  timecode: number | undefined;
  /** Whether a block of a video track was seen; the first one decides `keyframe`. */
  sawVideo: boolean;
  keyframe: boolean;
}

/** An empty scan, before the Cluster's first child. */
export function newClusterScan(): ClusterScan {
  return { timecode: undefined, sawVideo: false, keyframe: false };
}

/**
 * Feeds one Cluster child (`id`, body `bytes[start, end)`) to `scan`. `videoTracks` holds the
 * TrackNumbers of video tracks. Throws `ParseError("malformed")` on a block too short for its header.
 */
export function scanClusterChild(
  scan: ClusterScan,
  bytes: Uint8Array,
  id: number,
  start: number,
  end: number,
  videoTracks: ReadonlySet<number>,
): void {
  if (id === ID.Timecode) {
    scan.timecode = readUint(bytes, start, end);
  } else if (id === ID.SimpleBlock) {
    if (scan.sawVideo || videoTracks.size === 0) return;
    const { track, flagsAt } = blockHeader(bytes, start, end);
    if (!videoTracks.has(track)) return;
    scan.sawVideo = true;
    // SimpleBlock flags bit 0x80 = Keyframe (RFC 9559, SimpleBlock Structure).
    scan.keyframe = (bytes[flagsAt]! & 0x80) !== 0;
  } else if (id === ID.BlockGroup) {
    if (scan.sawVideo || videoTracks.size === 0) return;
    let track = -1;
    let referenced = false;
    forEachChild(bytes, start, end, (child, s, e) => {
      if (child === ID.Block) track = blockHeader(bytes, s, e).track;
      else if (child === ID.ReferenceBlock) referenced = true;
    });
    if (!videoTracks.has(track)) return;
    scan.sawVideo = true;
    // A Block without any ReferenceBlock is a keyframe (RFC 9559, ReferenceBlock element).
    scan.keyframe = !referenced;
  }
}

/**
 * How many leading body bytes of a Cluster child `scanClusterChild` needs (0: none, skip the call):
 * the whole Timestamp and BlockGroup, a SimpleBlock's header only, nothing once the first video block was seen.
 */
export function childBytesNeeded(scan: ClusterScan, id: number, size: number, videoTracks: ReadonlySet<number>): number {
  if (id === ID.Timecode) return size;
  if (scan.sawVideo || videoTracks.size === 0) return 0;
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
export function scanCluster(bytes: Uint8Array, start: number, end: number, videoTracks: ReadonlySet<number>): ClusterScan {
  const scan = newClusterScan();
  forEachChild(bytes, start, end, (id, s, e) => scanClusterChild(scan, bytes, id, s, e, videoTracks));
  return scan;
}
