import { ParseError } from "../errors.ts";
import { av1CodecString, avcCodecString } from "../fmp4/codecs.ts";
import { Reader } from "../reader.ts";
import type { TrackInfo } from "../types.ts";
import { forEachChild, ID } from "./ebml.ts";

/** TimecodeScale when Info does not state one (RFC 9559, Info \ TimestampScale, formerly TimecodeScale): 1 ms. */
export const DEFAULT_TIMECODE_SCALE = 1_000_000;

/** EBML unsigned integer body of 0..8 bytes (RFC 8794 §7.2; empty means 0). */
export function readUint(bytes: Uint8Array, start: number, end: number): number {
  if (end - start > 8) throw new ParseError("malformed", `unsigned integer element of ${end - start} bytes`);
  return new Reader(bytes.subarray(start, end)).uint(end - start);
}

/** EBML float body of 0, 4 or 8 bytes (RFC 8794 §7.3; empty means 0). */
function readFloat(bytes: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len !== 0 && len !== 4 && len !== 8) throw new ParseError("malformed", `float element of ${len} bytes`);
  return new Reader(bytes.subarray(start, end)).float(len);
}

function readString(bytes: Uint8Array, start: number, end: number): string {
  return new Reader(bytes.subarray(start, end)).string(end - start);
}

/** TimecodeScale (ns per Cluster/Block tick) from an Info body; the default when absent or 0. */
export function parseInfo(body: Uint8Array): number {
  let scale = DEFAULT_TIMECODE_SCALE;
  forEachChild(body, 0, body.byteLength, (id, s, e) => {
    if (id === ID.TimecodeScale) scale = readUint(body, s, e) || DEFAULT_TIMECODE_SCALE;
  });
  return scale;
}

/**
 * Tracks described by a Tracks body (RFC 9559, Tracks element). `timescale` = 1e9 / TimecodeScale ticks per second
 * (Block and Cluster times are in TimecodeScale units). A TrackEntry without a TrackNumber is malformed.
 */
export function parseTracks(body: Uint8Array, timecodeScale: number): TrackInfo[] {
  const tracks: TrackInfo[] = [];
  forEachChild(body, 0, body.byteLength, (id, s, e) => {
    if (id === ID.TrackEntry) tracks.push(parseTrackEntry(body.subarray(s, e), 1e9 / timecodeScale));
  });
  return tracks;
}

function parseTrackEntry(entry: Uint8Array, timescale: number): TrackInfo {
  let number = 0;
  let type = 0;
  let codecId = "";
  let codecPrivate: Uint8Array | undefined;
  const track: Partial<TrackInfo> = {};
  forEachChild(entry, 0, entry.byteLength, (id, s, e) => {
    if (id === ID.TrackNumber) number = readUint(entry, s, e);
    else if (id === ID.TrackType) type = readUint(entry, s, e);
    else if (id === ID.CodecID) codecId = readString(entry, s, e);
    else if (id === ID.CodecPrivate) codecPrivate = entry.subarray(s, e);
    else if (id === ID.Video) {
      forEachChild(entry, s, e, (vid, vs, ve) => {
        if (vid === ID.PixelWidth) track.width = readUint(entry, vs, ve);
        else if (vid === ID.PixelHeight) track.height = readUint(entry, vs, ve);
      });
    } else if (id === ID.Audio) {
      // Defaults per RFC 9559 (Audio \ SamplingFrequency, Channels): 8000 Hz, 1 channel.
      track.sampleRate = 8000;
      track.channels = 1;
      forEachChild(entry, s, e, (aid, as, ae) => {
        if (aid === ID.SamplingFrequency) track.sampleRate = readFloat(entry, as, ae);
        else if (aid === ID.Channels) track.channels = readUint(entry, as, ae);
      });
    }
  });
  if (number === 0) throw new ParseError("malformed", "TrackEntry without a TrackNumber");
  // TrackType 1 = video, 2 = audio (RFC 9559, TrackType element).
  const kind = type === 1 ? "video" : type === 2 ? "audio" : "other";
  return { id: number, kind, codec: codecString(codecId, codecPrivate), codecId, timescale, ...track };
}

/**
 * RFC 6381 codec string for a Matroska CodecID as Chromium's WebM MSE parser accepts it; "" when unknown.
 * V_AV1 needs its CodecPrivate (an av1C record): plain `av1` is rejected by Chromium.
 */
function codecString(codecId: string, codecPrivate: Uint8Array | undefined): string {
  switch (codecId) {
    case "V_VP8":
      return "vp8";
    case "V_VP9":
      return "vp9"; // ffmpeg writes VP9 without CodecPrivate; Chromium accepts bare `vp9` in WebM
    case "V_AV1":
      return codecPrivate ? av1CodecString(codecPrivate) : ""; // CodecPrivate is an av1C record
    case "V_MPEG4/ISO/AVC":
      return codecPrivate ? avcCodecString("avc1", codecPrivate) : ""; // CodecPrivate is an avcC record
    case "A_OPUS":
      return "opus";
    case "A_VORBIS":
      return "vorbis";
    default:
      return "";
  }
}
