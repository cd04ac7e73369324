/**
 * Just enough EBML/Matroska reading for the player: TimecodeScale and track types from a WebM init
 * segment, and the timecode and keyframe flag of a Cluster. Never throws on malformed input.
 */

const ID_SEGMENT = 0x18538067;
const ID_INFO = 0x1549a966;
const ID_TIMECODE_SCALE = 0x2ad7b1;
const ID_TRACKS = 0x1654ae6b;
const ID_TRACK_ENTRY = 0xae;
const ID_TRACK_NUMBER = 0xd7;
const ID_TRACK_TYPE = 0x83;
const ID_CLUSTER = 0x1f43b675;
const ID_TIMECODE = 0xe7;
const ID_SIMPLE_BLOCK = 0xa3;
const ID_BLOCK_GROUP = 0xa0;
const ID_BLOCK = 0xa1;
const ID_REFERENCE_BLOCK = 0xfb;

/** IDs of elements that may follow a Cluster at level 0/1: they end an unknown-size Cluster. */
const LEVEL1_IDS = new Set([
  ID_CLUSTER,
  ID_SEGMENT,
  ID_INFO,
  ID_TRACKS,
  0x1c53bb6b,
  0x1254c367,
  0x114d9b74,
  0x1941a469,
  0x1043a770,
  0x1a45dfa3,
]);

/** An element found inside a byte range; `end` is `limit` for unknown-size elements. */
export interface Element {
  id: number;
  payload: number;
  end: number;
  unknownSize: boolean;
}

/** Reads a variable-length integer; `keepMarker` keeps the length bit (element IDs). */
function vint(data: Uint8Array, pos: number, keepMarker: boolean): { value: number; length: number; allOnes: boolean } | undefined {
  const first = data[pos];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (pos + length > data.byteLength) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const b = data[pos + i]!;
    value = value * 256 + b;
    allOnes &&= b === 0xff;
  }
  return { value, length, allOnes: !keepMarker && allOnes };
}

/** Iterates elements in `data[from, limit)`; an unknown-size element extends to `limit`. */
export function* elements(data: Uint8Array, from: number, limit: number): Generator<Element> {
  let pos = from;
  while (pos < limit) {
    const id = vint(data, pos, true);
    if (!id) return;
    const size = vint(data, pos + id.length, false);
    if (!size) return;
    const payload = pos + id.length + size.length;
    const end = size.allOnes ? limit : Math.min(payload + size.value, limit);
    yield { id: id.value, payload, end, unknownSize: size.allOnes };
    if (end <= pos) return;
    pos = end;
  }
}

function uint(data: Uint8Array, el: Element): number {
  let v = 0;
  for (let i = el.payload; i < el.end; i++) v = v * 256 + data[i]!;
  return v;
}

/** What the player needs from a WebM init segment. */
export interface WebmInit {
  /** Nanoseconds per timecode tick (default 1,000,000: milliseconds). */
  timecodeScale: number;
  /** Track number of the first video track (TrackType 1), if any. */
  videoTrack?: number;
}

/** Reads TimecodeScale and the video track number from an init segment (EBML header + Segment head). */
export function parseWebmInit(data: Uint8Array): WebmInit {
  const init: WebmInit = { timecodeScale: 1_000_000 };
  for (const top of elements(data, 0, data.byteLength)) {
    if (top.id !== ID_SEGMENT) continue;
    for (const el of elements(data, top.payload, top.end)) {
      if (el.id === ID_CLUSTER) break;
      if (el.id === ID_INFO) {
        for (const i of elements(data, el.payload, el.end)) if (i.id === ID_TIMECODE_SCALE) init.timecodeScale = uint(data, i) || 1_000_000;
      } else if (el.id === ID_TRACKS) {
        for (const entry of elements(data, el.payload, el.end)) {
          if (entry.id !== ID_TRACK_ENTRY) continue;
          let number: number | undefined;
          let type: number | undefined;
          for (const f of elements(data, entry.payload, entry.end)) {
            if (f.id === ID_TRACK_NUMBER) number = uint(data, f);
            else if (f.id === ID_TRACK_TYPE) type = uint(data, f);
          }
          if (type === 1 && number !== undefined && init.videoTrack === undefined) init.videoTrack = number;
        }
      }
    }
  }
  return init;
}

/** Facts about one Cluster. */
export interface WebmCluster {
  /** Cluster Timecode in timecode ticks, if present. */
  timecode?: number;
  /** Flag of the first block of the video track (or of the first block when no video track is known). */
  keyframe?: boolean;
  /** Some video block of the cluster is a keyframe (a keyframe may sit mid-cluster). */
  anyKeyframe: boolean;
}

/** Reads the Timecode and the video blocks' keyframe flags of the first Cluster in `data`. */
export function parseWebmCluster(data: Uint8Array, videoTrack: number | undefined): WebmCluster {
  const out: WebmCluster = { anyKeyframe: false };
  const seen = (track: number | undefined, key: boolean): void => {
    if (track === undefined || (videoTrack !== undefined && track !== videoTrack)) return;
    out.keyframe ??= key;
    out.anyKeyframe ||= key;
  };
  for (const top of elements(data, 0, data.byteLength)) {
    if (top.id !== ID_CLUSTER) continue;
    for (const el of elements(data, top.payload, top.end)) {
      if (top.unknownSize && LEVEL1_IDS.has(el.id)) break;
      if (el.id === ID_TIMECODE) out.timecode = uint(data, el);
      else if (el.id === ID_SIMPLE_BLOCK) {
        const block = blockHeader(data, el.payload);
        if (block) seen(block.track, (block.flags & 0x80) !== 0);
      } else if (el.id === ID_BLOCK_GROUP) {
        let track: number | undefined;
        let referenced = false;
        for (const g of elements(data, el.payload, el.end)) {
          if (g.id === ID_BLOCK) track = blockHeader(data, g.payload)?.track;
          else if (g.id === ID_REFERENCE_BLOCK) referenced = true;
        }
        seen(track, !referenced);
      }
    }
    return out;
  }
  return out;
}

function blockHeader(data: Uint8Array, pos: number): { track: number; flags: number } | undefined {
  const track = vint(data, pos, false);
  if (!track) return undefined;
  const flags = data[pos + track.length + 2];
  return flags === undefined ? undefined : { track: track.value, flags };
}
