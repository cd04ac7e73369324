import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";
import type { TrackInfo } from "../types.ts";
import { fourccName, HDLR, MDHD, MDIA, MINF, MVEX, STBL, STSD, TKHD, TRAK, TREX } from "./box-types.ts";
import { type BoxRange, childBoxes, findBox, openFullBox, requireBox } from "./boxes.ts";
import { readSampleEntry } from "./codecs.ts";

/** Per-track fragment defaults from `mvex/trex` (ISO/IEC 14496-12 §8.8.3). */
interface TrexDefaults {
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

const HANDLER_KINDS = new Map<string, TrackInfo["kind"]>([
  ["vide", "video"],
  ["soun", "audio"],
]);

/**
 * Reads tracks and fragment defaults from a complete `moov` payload: `bytes[start, end)` (the bytes
 * after the moov header). Throws `malformed` when a required box (tkhd, mdia, mdhd, hdlr) is missing
 * or anything overruns its parent, or a media track has timescale 0. Codec strings that cannot be
 * built are left "" (buildMime reports them).
 */
export function parseMoov(bytes: Uint8Array, start = 0, end = bytes.byteLength): MovieInfo {
  const r = new Reader(bytes);
  const boxes = childBoxes(r, start, end);
  const tracks = boxes.filter((b) => b.type === TRAK).map((trak) => parseTrak(r, trak));
  const trex = new Map<number, TrexDefaults>();
  const mvex = findBox(boxes, MVEX);
  for (const box of mvex ? childBoxes(r, mvex.start, mvex.end) : []) {
    if (box.type !== TREX) continue;
    openFullBox(r, box, 20);
    const trackId = r.u32();
    r.skip(4); // default_sample_description_index
    const defaultSampleDuration = r.u32();
    r.skip(4); // default_sample_size
    trex.set(trackId, { defaultSampleDuration, defaultSampleFlags: r.u32() });
  }
  return { tracks, trex };
}

function parseTrak(r: Reader, trak: BoxRange): TrackInfo {
  const boxes = childBoxes(r, trak.start, trak.end);
  const id = readTrackId(r, requireBox(boxes, TKHD, TRAK));
  const mdiaBox = requireBox(boxes, MDIA, TRAK);
  const mdia = childBoxes(r, mdiaBox.start, mdiaBox.end);
  const timescale = readTimescale(r, requireBox(mdia, MDHD, MDIA));
  const handler = readHandler(r, requireBox(mdia, HDLR, MDIA));
  const kind = HANDLER_KINDS.get(handler) ?? "other";
  if (kind !== "other" && timescale === 0) throw new ParseError("malformed", `track ${id} has timescale 0`);
  const entry = firstSampleEntry(r, mdia);
  const info = entry ? readSampleEntry(r.bytes, entry.box, handler, entry.stsdVersion) : { codecId: "", codec: "" };
  const track: TrackInfo = { id, kind, codec: info.codec, codecId: info.codecId, timescale };
  if (info.width !== undefined) track.width = info.width;
  if (info.height !== undefined) track.height = info.height;
  if (info.sampleRate !== undefined) track.sampleRate = info.sampleRate;
  if (info.channels !== undefined) track.channels = info.channels;
  return track;
}

/** tkhd track_ID (§8.3.2): after creation/modification times, 32- or 64-bit by version. */
function readTrackId(r: Reader, tkhd: BoxRange): number {
  const { version } = openFullBox(r, tkhd, 0);
  openFullBox(r, tkhd, version === 1 ? 20 : 12);
  r.skip(version === 1 ? 16 : 8);
  return r.u32();
}

/** mdhd timescale (§8.4.2): after creation/modification times, 32- or 64-bit by version. */
function readTimescale(r: Reader, mdhd: BoxRange): number {
  const { version } = openFullBox(r, mdhd, 0);
  openFullBox(r, mdhd, version === 1 ? 20 : 12);
  r.skip(version === 1 ? 16 : 8);
  return r.u32();
}

/** hdlr handler_type (§8.4.3), after pre_defined. */
function readHandler(r: Reader, hdlr: BoxRange): string {
  openFullBox(r, hdlr, 8);
  r.skip(4);
  return fourccName(r.u32());
}

/** The first entry of minf/stbl/stsd (§8.5.2) with the stsd version, or undefined if there is none. */
function firstSampleEntry(r: Reader, mdia: BoxRange[]): { box: BoxRange; stsdVersion: number } | undefined {
  const minf = findBox(mdia, MINF);
  const stbl = minf && findBox(childBoxes(r, minf.start, minf.end), STBL);
  const stsd = stbl && findBox(childBoxes(r, stbl.start, stbl.end), STSD);
  if (!stsd) return undefined;
  const { version } = openFullBox(r, stsd, 4);
  const count = r.u32();
  if (count === 0) return undefined;
  const box = childBoxes(r, r.pos, stsd.end)[0];
  if (!box) throw new ParseError("malformed", `stsd declares ${count} entries but holds none`);
  return { box, stsdVersion: version };
}
