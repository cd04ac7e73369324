/**
 * Just enough ISO BMFF (ISO/IEC 14496-12) reading for the player: track metadata from an init
 * segment, and per-fragment facts (first-sample sync flag, decode time, `prft`) from a fragment.
 * Never throws on malformed input: unknown or truncated boxes are skipped.
 */

/** A box found inside a byte range. `end` is exclusive; `payload` is where its body starts. */
export interface Box {
  type: string;
  start: number;
  payload: number;
  end: number;
}

/** Iterates the boxes in `data[from, to)`; stops at the first box that does not fit. */
export function* boxes(data: Uint8Array, from = 0, to = data.byteLength): Generator<Box> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = from;
  while (pos + 8 <= to) {
    let size = view.getUint32(pos);
    const type = String.fromCharCode(data[pos + 4]!, data[pos + 5]!, data[pos + 6]!, data[pos + 7]!);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > to) return;
      size = Number(view.getBigUint64(pos + 8));
      header = 16;
    } else if (size === 0) {
      size = to - pos;
    }
    if (size < header || pos + size > to) return;
    yield { type, start: pos, payload: pos + header, end: pos + size };
    pos += size;
  }
}

function child(data: Uint8Array, parent: Box, type: string): Box | undefined {
  for (const b of boxes(data, parent.payload, parent.end)) if (b.type === type) return b;
  return undefined;
}

function u32(data: Uint8Array, pos: number): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(pos);
}

function u64(data: Uint8Array, pos: number): number {
  return Number(new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(pos));
}

/** What the player needs to know about one track of an fMP4 init segment. */
export interface Mp4Track {
  id: number;
  /** hdlr handler_type: `vide`, `soun`, ... */
  handler: string;
  timescale: number;
  /** trex default_sample_flags (ffmpeg writes 0: only a last resort). */
  trexFlags?: number;
}

/** Tracks of an init segment (`moov`), keyed by track_ID. Empty when there is no parsable `moov`. */
export function parseMp4Init(data: Uint8Array): Map<number, Mp4Track> {
  const tracks = new Map<number, Mp4Track>();
  const trex = new Map<number, number>();
  for (const top of boxes(data)) {
    if (top.type !== "moov") continue;
    for (const b of boxes(data, top.payload, top.end)) {
      if (b.type === "trak") {
        const tkhd = child(data, b, "tkhd");
        const mdia = child(data, b, "mdia");
        const mdhd = mdia && child(data, mdia, "mdhd");
        const hdlr = mdia && child(data, mdia, "hdlr");
        if (!tkhd || !mdhd || !hdlr || hdlr.payload + 12 > hdlr.end) continue;
        const v1 = data[tkhd.payload] === 1;
        const id = u32(data, tkhd.payload + (v1 ? 20 : 12));
        const timescale = u32(data, mdhd.payload + (data[mdhd.payload] === 1 ? 20 : 12));
        const h = hdlr.payload + 8;
        const handler = String.fromCharCode(data[h]!, data[h + 1]!, data[h + 2]!, data[h + 3]!);
        tracks.set(id, { id, handler, timescale });
      } else if (b.type === "mvex") {
        for (const t of boxes(data, b.payload, b.end)) {
          if (t.type === "trex" && t.payload + 24 <= t.end) trex.set(u32(data, t.payload + 4), u32(data, t.payload + 20));
        }
      }
    }
  }
  for (const [id, flags] of trex) {
    const t = tracks.get(id);
    if (t) t.trexFlags = flags;
  }
  return tracks;
}

/** A producer reference time: `wallclockMs` (Unix epoch) is when media time `mediaTime` (ticks) was produced. */
export interface Prft {
  trackId: number;
  wallclockMs: number;
  mediaTime: number;
}

/** NTP seconds between 1900-01-01 and 1970-01-01. */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** Parses a `prft` box body (§8.16.5). */
export function parsePrft(data: Uint8Array, box: Box): Prft | undefined {
  const p = box.payload;
  const v1 = data[p] === 1;
  if (p + (v1 ? 24 : 20) > box.end) return undefined;
  const seconds = u32(data, p + 8);
  const fraction = u32(data, p + 12);
  return {
    trackId: u32(data, p + 4),
    wallclockMs: (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / 2 ** 32) * 1000,
    mediaTime: v1 ? u64(data, p + 16) : u32(data, p + 16),
  };
}

/** One `traf` of a fragment, reduced to its first sample. */
export interface Mp4Traf {
  trackId: number;
  /** tfdt baseMediaDecodeTime in track ticks, if present. */
  decodeTime?: number;
  /** Sample flags of the first sample (trun first_sample_flags → per-sample → tfhd default → trex). */
  firstSampleFlags?: number;
  /** Some sample of the fragment is a sync sample (when flags are known). */
  anySync?: boolean;
}

/** Facts about an fMP4 media fragment. */
export interface Mp4Fragment {
  trafs: Mp4Traf[];
  prft?: Prft;
}

/** Reads the `traf`s of every `moof` and the first `prft` of a fragment. */
export function parseMp4Fragment(data: Uint8Array, tracks: Map<number, Mp4Track>): Mp4Fragment {
  const out: Mp4Fragment = { trafs: [] };
  for (const top of boxes(data)) {
    if (top.type === "prft" && !out.prft) out.prft = parsePrft(data, top);
    if (top.type !== "moof") continue;
    for (const traf of boxes(data, top.payload, top.end)) {
      if (traf.type === "traf") out.trafs.push(parseTraf(data, traf, tracks));
    }
  }
  return out;
}

function parseTraf(data: Uint8Array, traf: Box, tracks: Map<number, Mp4Track>): Mp4Traf {
  const result: Mp4Traf = { trackId: 0 };
  let tfhdDefault: number | undefined;
  let trunSeen = false;
  for (const b of boxes(data, traf.payload, traf.end)) {
    const p = b.payload;
    if (b.type === "tfhd" && p + 8 <= b.end) {
      const flags = u32(data, p) & 0xffffff;
      result.trackId = u32(data, p + 4);
      let o = p + 8;
      if (flags & 0x1) o += 8;
      if (flags & 0x2) o += 4;
      if (flags & 0x8) o += 4;
      if (flags & 0x10) o += 4;
      if (flags & 0x20 && o + 4 <= b.end) tfhdDefault = u32(data, o);
    } else if (b.type === "tfdt" && p + 8 <= b.end) {
      result.decodeTime = data[p] === 1 && p + 12 <= b.end ? u64(data, p + 4) : u32(data, p + 4);
    } else if (b.type === "trun" && p + 8 <= b.end) {
      readTrun(data, b, result, trunSeen);
      trunSeen ||= result.firstSampleFlags !== undefined || u32(data, p + 4) > 0;
    }
  }
  const fallback = tfhdDefault ?? tracks.get(result.trackId)?.trexFlags;
  result.firstSampleFlags ??= fallback;
  if (result.anySync === undefined && result.firstSampleFlags !== undefined) {
    result.anySync =
      (result.firstSampleFlags & SAMPLE_IS_NON_SYNC) === 0 || (fallback !== undefined && (fallback & SAMPLE_IS_NON_SYNC) === 0);
  }
  return result;
}

/** Reads sample flags out of one `trun`: the first sample's (unless already known) and whether any is sync. */
function readTrun(data: Uint8Array, b: Box, result: Mp4Traf, firstKnown: boolean): void {
  const p = b.payload;
  const flags = u32(data, p) & 0xffffff;
  const count = u32(data, p + 4);
  let o = p + 8;
  if (flags & 0x1) o += 4;
  if (flags & 0x4) {
    if (o + 4 > b.end) return;
    const first = u32(data, o);
    if (!firstKnown) result.firstSampleFlags = first;
    if ((first & SAMPLE_IS_NON_SYNC) === 0) result.anySync = true;
    o += 4;
  }
  if (!(flags & 0x400)) return;
  const stride = 4 * [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
  const flagsAt = flags & 0x100 ? (flags & 0x200 ? 8 : 4) : flags & 0x200 ? 4 : 0;
  for (let i = 0; i < count && o + flagsAt + 4 <= b.end; i++, o += stride) {
    const sample = u32(data, o + flagsAt);
    if (i === 0 && flags & 0x4) continue; // overridden by first_sample_flags
    if (i === 0 && !firstKnown) result.firstSampleFlags = sample;
    if ((sample & SAMPLE_IS_NON_SYNC) === 0) result.anySync = true;
  }
  result.anySync ??= false;
}

/** is_non_sync_sample bit of ISO BMFF sample flags. */
export const SAMPLE_IS_NON_SYNC = 0x0001_0000;
