import { ParseError } from "../errors.ts";
import { readUint } from "./codecs.ts";
import { ID, forEachChild, readVint } from "./ebml.ts";

/**
 * What a Cluster's children say about it, gathered child by child so an unknown-size Cluster can be
 * scanned while it streams in. Only block headers are read, never frame payloads.
 */
export interface ClusterScan {
  /** Cluster Timestamp (RFC 9559 §5.1.3.1) in TimecodeScale units; undefined until seen. */
  timecode: number | undefined;
  /** Whether a block of a video track was seen; the first one decides `keyframe`. */
  sawVideo: boolean;
  keyframe: boolean;
}

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
    // SimpleBlock flags bit 0x80 = Keyframe (RFC 9559 §10.2).
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
    // A Block without any ReferenceBlock is a keyframe (RFC 9559 §10.1, §5.1.3.5.4).
    scan.keyframe = !referenced;
  }
}

/** Track number and the offset of the flags byte of a Block/SimpleBlock body (RFC 9559 §10.1). */
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
