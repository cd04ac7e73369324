import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";
import type { TrackInfo } from "../types.ts";
import {
  HDLR, MDHD, MDIA, MINF, MVEX, STBL, STSD, TKHD, TRAK, TREX,
  childBoxes, findBox, readFullBoxHeader, requireBox, type Box,
} from "./boxes.ts";
import { readSampleEntry } from "./codecs.ts";

/** Per-track fragment defaults from `mvex/trex` (ISO/IEC 14496-12 §8.8.3). */
export interface TrexDefaults {
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

/** What a `moov` tells the fragment parser. */
export interface MovieInfo {
  /** Every track in moov order (including kind "other"). */
  tracks: TrackInfo[];
  /** trex defaults by track id; empty when the moov has no mvex. */
  trex: Map<number, TrexDefaults>;
}

const HANDLER_KINDS: Record<string, TrackInfo["kind"]> = { vide: "video", soun: "audio" };

/**
 * Reads tracks and fragment defaults from a complete `moov` payload (the bytes after its header).
 * Throws `malformed` when a required box (tkhd, mdia, mdhd, hdlr) is missing or overruns its parent,
 * or a media track has timescale 0. Codec strings that cannot be built are left "".
 */
export function parseMoov(payload: Uint8Array): MovieInfo {
  const boxes = childBoxes(payload);
  const tracks = boxes.filter((b) => b.type === TRAK).map(parseTrak);
  const trex = new Map<number, TrexDefaults>();
  const mvex = findBox(boxes, MVEX);
  if (mvex) {
    for (const b of childBoxes(mvex.payload)) {
      if (b.type !== TREX) continue;
      const r = new Reader(b.payload);
      readFullBoxHeader(r);
      const trackId = r.u32();
      r.skip(4); // default_sample_description_index
      const defaultSampleDuration = r.u32();
      r.skip(4); // default_sample_size
      trex.set(trackId, { defaultSampleDuration, defaultSampleFlags: r.u32() });
    }
  }
  return { tracks, trex };
}

function parseTrak(trak: Box): TrackInfo {
  const boxes = childBoxes(trak.payload);
  const id = readTrackId(requireBox(boxes, TKHD, TRAK));
  const mdia = childBoxes(requireBox(boxes, MDIA, TRAK).payload);
  const timescale = readTimescale(requireBox(mdia, MDHD, MDIA));
  const handler = readHandler(requireBox(mdia, HDLR, MDIA));
  const kind = HANDLER_KINDS[handler] ?? "other";
  if (kind !== "other" && timescale === 0) throw new ParseError("malformed", `track ${id} has timescale 0`);
  const entry = firstSampleEntry(mdia);
  const info = entry ? readSampleEntry(entry.box, handler, entry.stsdVersion) : { codecId: "", codec: "" };
  const track: TrackInfo = { id, kind, codec: info.codec, codecId: info.codecId, timescale };
  if (info.width !== undefined) track.width = info.width;
  if (info.height !== undefined) track.height = info.height;
  if (info.sampleRate !== undefined) track.sampleRate = info.sampleRate;
  if (info.channels !== undefined) track.channels = info.channels;
  return track;
}

/** tkhd track_ID (§8.3.2): after creation/modification times, 32- or 64-bit by version. */
function readTrackId(tkhd: Box): number {
  const r = new Reader(tkhd.payload);
  const { version } = readFullBoxHeader(r);
  r.skip(version === 1 ? 16 : 8);
  return r.u32();
}

/** mdhd timescale (§8.4.2): after creation/modification times, 32- or 64-bit by version. */
function readTimescale(mdhd: Box): number {
  const r = new Reader(mdhd.payload);
  const { version } = readFullBoxHeader(r);
  r.skip(version === 1 ? 16 : 8);
  return r.u32();
}

/** hdlr handler_type (§8.4.3), after pre_defined. */
function readHandler(hdlr: Box): string {
  const r = new Reader(hdlr.payload);
  readFullBoxHeader(r);
  r.skip(4);
  return r.fourcc();
}

/** The first entry of minf/stbl/stsd (§8.5.2) with the stsd version, or undefined if there is none. */
function firstSampleEntry(mdia: Box[]): { box: Box; stsdVersion: number } | undefined {
  const minf = findBox(mdia, MINF);
  const stbl = minf && findBox(childBoxes(minf.payload), STBL);
  const stsd = stbl && findBox(childBoxes(stbl.payload), STSD);
  if (!stsd) return undefined;
  const r = new Reader(stsd.payload);
  const { version } = readFullBoxHeader(r);
  const count = r.u32();
  if (count === 0) return undefined;
  const box = childBoxes(stsd.payload.subarray(r.pos))[0];
  if (!box) throw new ParseError("malformed", `stsd declares ${count} entries but holds none`);
  return { box, stsdVersion: version };
}
