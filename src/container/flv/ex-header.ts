import { ParseError } from "../errors.ts";
import type { Reader } from "../reader.ts";

/**
 * The parts of E-RTMP v2's ExAudioTagHeader and ExVideoTagHeader that are the same for audio and
 * video: ModEx packets, the multitrack layout, and taking the rest of a body.
 */

/** AvMultitrackType (E-RTMP v2), shared by audio and video. */
const MULTITRACK_TYPE = { oneTrack: 0, manyTracks: 1, manyTracksManyCodecs: 2 } as const;
/** The ModEx packet type, the same value (7) for AudioPacketType and VideoPacketType. */
const MOD_EX = 7;

/**
 * Skips ModEx packets (E-RTMP v2: size UI8+1, or UI16+1 when that is 256; data; then UB[4] ModExType and
 * UB[4] the real packet type). The only defined one, TimestampOffsetNano, is below RTMP's 1 ms precision.
 */
export function skipModEx(r: Reader, packetType: number): number {
  while (packetType === MOD_EX) {
    let size = r.u8() + 1;
    if (size === 256) size = r.u16() + 1;
    r.skip(size);
    packetType = r.u8() & 0x0f;
  }
  return packetType;
}

/**
 * The tracks of a Multitrack packet, `r` just after the header byte that named it: UB[4]
 * AvMultitrackType and UB[4] the tracks' packet type, one FourCC for all tracks unless
 * ManyTracksManyCodecs, then per track [FourCC], trackId (UI8) and, unless OneTrack, a UI24 body size.
 * `body` gets a reader over each track's body. Throws `ParseError("malformed")` for a Multitrack packet
 * type inside (`multitrack` is the value of that type for `kind`), an unknown AvMultitrackType, or a
 * track that overruns the payload.
 */
export function readMultitrack<T>(
  r: Reader,
  kind: "audio" | "video",
  multitrack: number,
  body: (r: Reader, packetType: number, fourcc: string, trackId: number) => T,
): T[] {
  const b = r.u8();
  const multitrackType = b >> 4;
  const packetType = b & 0x0f;
  if (packetType === multitrack) throw new ParseError("malformed", `nested ${kind} Multitrack packet type`);
  if (multitrackType > MULTITRACK_TYPE.manyTracksManyCodecs) throw new ParseError("malformed", `AvMultitrackType ${multitrackType}`);
  const shared = multitrackType === MULTITRACK_TYPE.manyTracksManyCodecs ? "" : r.fourcc();
  const out: T[] = [];
  while (r.remaining > 0) {
    const fourcc = shared || r.fourcc();
    const trackId = r.u8();
    const track = multitrackType === MULTITRACK_TYPE.oneTrack ? r.sub(r.remaining) : r.sub(r.u24());
    out.push(body(track, packetType, fourcc, trackId));
    if (multitrackType === MULTITRACK_TYPE.oneTrack) break;
  }
  return out;
}

/** The unread rest of `r` as a view (callers copy what they keep). */
export function rest(r: Reader): Uint8Array {
  const out = r.bytes.subarray(r.pos);
  r.pos = r.bytes.byteLength;
  return out;
}
