/**
 * Test-only: the elementary frames of an ffmpeg-made fragmented MP4, read with a plain DataView
 * (independent of Sluice's parser and writer), as the CodedFrames and TrackConfigs a demuxer would
 * give the remuxer. Walks moov (tkhd/mdhd/hdlr/stsd/trex) and every moof/traf/trun.
 */
import type { AudioTrackConfig, CodedFrame, TrackConfig, VideoTrackConfig } from "../../../src/container/remux/frame.ts";

interface Box {
  type: string;
  start: number; // payload start
  end: number;
  at: number; // header start
}

function children(file: Uint8Array, start: number, end: number): Box[] {
  const v = view(file);
  const out: Box[] = [];
  for (let pos = start; pos + 8 <= end; ) {
    let size = v.getUint32(pos);
    let header = 8;
    if (size === 1) {
      size = Number(v.getBigUint64(pos + 8));
      header = 16;
    }
    if (size < header || pos + size > end) throw new Error(`bad box at ${pos}`);
    out.push({ type: String.fromCharCode(...file.subarray(pos + 4, pos + 8)), start: pos + header, end: pos + size, at: pos });
    pos += size;
  }
  return out;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const find = (boxes: Box[], type: string) => boxes.find((b) => b.type === type);
const must = (boxes: Box[], type: string) => {
  const b = find(boxes, type);
  if (!b) throw new Error(`no ${type}`);
  return b;
};

interface SourceTrack {
  id: number;
  config: TrackConfig;
  trexDuration: number;
  trexFlags: number;
}

export interface Extracted {
  tracks: TrackConfig[];
  /** Every frame of every track, ordered by decode time in seconds (video first on ties), as a demuxer interleaves them. */
  frames: CodedFrame[];
}

const VIDEO: Record<string, VideoTrackConfig["codec"]> = { avc1: "avc", avc3: "avc", hvc1: "hevc", hev1: "hevc", av01: "av1", vp09: "vp9" };
const VIDEO_CONFIG: Record<string, string> = { avc: "avcC", hevc: "hvcC", av1: "av1C", vp9: "vpcC" };

function readTrack(file: Uint8Array, trak: Box): { id: number; config: TrackConfig } {
  const v = view(file);
  const boxes = children(file, trak.start, trak.end);
  const tkhd = must(boxes, "tkhd");
  const id = v.getUint32(tkhd.start + (file[tkhd.start] === 1 ? 20 : 12));
  const mdia = children(file, must(boxes, "mdia").start, must(boxes, "mdia").end);
  const mdhd = must(mdia, "mdhd");
  const timescale = v.getUint32(mdhd.start + (file[mdhd.start] === 1 ? 20 : 12));
  const handler = String.fromCharCode(...file.subarray(must(mdia, "hdlr").start + 8, must(mdia, "hdlr").start + 12));
  const minf = must(mdia, "minf");
  const stbl = must(children(file, minf.start, minf.end), "stbl");
  const stsd = must(children(file, stbl.start, stbl.end), "stsd");
  const entry = children(file, stsd.start + 8, stsd.end)[0]!;
  if (handler === "vide") {
    const codec = VIDEO[entry.type];
    if (!codec) throw new Error(`video entry ${entry.type}`);
    const box = must(children(file, entry.start + 78, entry.end), VIDEO_CONFIG[codec]!);
    const record = file.slice(codec === "vp9" ? box.start + 4 : box.start, box.end);
    return {
      id,
      config: { kind: "video", codec, record, width: v.getUint16(entry.start + 24), height: v.getUint16(entry.start + 26), timescale },
    };
  }
  const channels = v.getUint16(entry.start + 16);
  const sampleRate = v.getUint32(entry.start + 24) >>> 16;
  const inner = children(file, entry.start + 28, entry.end);
  if (entry.type === "mp4a") {
    const config = ascFromEsds(file.subarray(must(inner, "esds").start, must(inner, "esds").end));
    return { id, config: { kind: "audio", codec: "aac", config, sampleRate, channels, timescale } satisfies AudioTrackConfig };
  }
  if (entry.type === "Opus") {
    const config = opusHeadFromDops(file.subarray(must(inner, "dOps").start, must(inner, "dOps").end));
    return { id, config: { kind: "audio", codec: "opus", config, sampleRate: 48000, channels: config[9]!, timescale } };
  }
  throw new Error(`audio entry ${entry.type}`);
}

/**
 * The AudioSpecificConfig of an esds payload (FullBox header, then ES_Descriptor →
 * DecoderConfigDescriptor → DecoderSpecificInfo, ISO/IEC 14496-1 §7.2.6).
 */
export function ascFromEsds(d: Uint8Array): Uint8Array {
  let pos = 4;
  const header = () => {
    const tag = d[pos++]!;
    let size = 0;
    for (let i = 0; i < 4; i++) {
      const b = d[pos++]!;
      size = (size << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { tag, size };
  };
  if (header().tag !== 3) throw new Error("no ES_Descriptor");
  const flags = d[pos + 2]!;
  pos += 3 + (flags & 0x80 ? 2 : 0) + (flags & 0x20 ? 2 : 0);
  if (header().tag !== 4) throw new Error("no DecoderConfigDescriptor");
  pos += 13;
  const dsi = header();
  if (dsi.tag !== 5) throw new Error("no DecoderSpecificInfo");
  return d.slice(pos, pos + dsi.size);
}

/** dOps (big-endian, Opus-ISOBMFF §4.3.2) back to the OpusHead (little-endian) it came from, RFC 7845 §5.1. */
export function opusHeadFromDops(d: Uint8Array): Uint8Array {
  const v = view(d);
  const family = d[10]!;
  const table = family === 0 ? new Uint8Array(0) : d.subarray(11);
  const head = new Uint8Array(19 + table.byteLength);
  const h = view(head);
  head.set([..."OpusHead"].map((c) => c.charCodeAt(0)));
  head[8] = 1;
  head[9] = d[1]!;
  h.setUint16(10, v.getUint16(2), true);
  h.setUint32(12, v.getUint32(4), true);
  h.setInt16(16, v.getInt16(8), true);
  head[18] = family;
  head.set(table, 19);
  return head;
}

/** Reads tracks and frames; `arrivalBaseMs + dts in ms` stands for each frame's arrival time. */
export function extractFrames(file: Uint8Array, arrivalBaseMs = 1_700_000_000_000): Extracted {
  const v = view(file);
  const top = children(file, 0, file.byteLength);
  const moov = must(top, "moov");
  const moovBoxes = children(file, moov.start, moov.end);
  const tracks = new Map<number, SourceTrack>();
  for (const trak of moovBoxes.filter((b) => b.type === "trak")) {
    const t = readTrack(file, trak);
    tracks.set(t.id, { ...t, trexDuration: 0, trexFlags: 0 });
  }
  const mvex = find(moovBoxes, "mvex");
  for (const trex of mvex ? children(file, mvex.start, mvex.end).filter((b) => b.type === "trex") : []) {
    const t = tracks.get(v.getUint32(trex.start + 4))!;
    t.trexDuration = v.getUint32(trex.start + 12);
    t.trexFlags = v.getUint32(trex.start + 20);
  }
  const next = new Map<number, number>(); // running dts per track
  const frames: Array<CodedFrame & { order: number }> = [];
  for (const moof of top.filter((b) => b.type === "moof")) {
    for (const traf of children(file, moof.start, moof.end).filter((b) => b.type === "traf")) {
      const boxes = children(file, traf.start, traf.end);
      const tfhd = must(boxes, "tfhd");
      const flags = v.getUint32(tfhd.start) & 0xffffff;
      const track = tracks.get(v.getUint32(tfhd.start + 4))!;
      let p = tfhd.start + 8;
      let base = moof.at;
      if (flags & 0x1) {
        base = Number(v.getBigUint64(p));
        p += 8;
      }
      if (flags & 0x2) p += 4;
      let defDuration = track.trexDuration;
      let defSize = 0;
      let defFlags = track.trexFlags;
      if (flags & 0x8) (defDuration = v.getUint32(p)), (p += 4);
      if (flags & 0x10) (defSize = v.getUint32(p)), (p += 4);
      if (flags & 0x20) defFlags = v.getUint32(p);
      const tfdt = find(boxes, "tfdt");
      let dts = tfdt
        ? file[tfdt.start] === 1
          ? Number(v.getBigUint64(tfdt.start + 4))
          : v.getUint32(tfdt.start + 4)
        : (next.get(track.config.kind === "video" ? 1 : 2) ?? 0);
      for (const trun of boxes.filter((b) => b.type === "trun")) {
        const version = file[trun.start]!;
        const tf = v.getUint32(trun.start) & 0xffffff;
        const count = v.getUint32(trun.start + 4);
        let q = trun.start + 8;
        let offset = base;
        if (tf & 0x1) (offset = base + v.getInt32(q)), (q += 4);
        let first: number | undefined;
        if (tf & 0x4) (first = v.getUint32(q)), (q += 4);
        for (let i = 0; i < count; i++) {
          const duration = tf & 0x100 ? v.getUint32((q += 4) - 4) : defDuration;
          const size = tf & 0x200 ? v.getUint32((q += 4) - 4) : defSize;
          let sf = tf & 0x400 ? v.getUint32((q += 4) - 4) : defFlags;
          if (i === 0 && first !== undefined) sf = first;
          const cto = tf & 0x800 ? (version === 1 ? v.getInt32((q += 4) - 4) : v.getUint32((q += 4) - 4)) : 0;
          const kind = track.config.kind;
          frames.push({
            kind,
            dts,
            pts: dts + cto,
            keyframe: kind === "audio" || (sf & 0x10000) === 0,
            data: file.subarray(offset, offset + size),
            arrivalMs: arrivalBaseMs + Math.round((dts * 1000) / track.config.timescale),
            order: frames.length,
          });
          offset += size;
          dts += duration;
        }
      }
      next.set(track.config.kind === "video" ? 1 : 2, dts);
    }
  }
  const seconds = (f: CodedFrame) => f.dts / (f.kind === "video" ? videoScale(tracks) : audioScale(tracks));
  frames.sort((a, b) => seconds(a) - seconds(b) || (a.kind === b.kind ? a.order - b.order : a.kind === "video" ? -1 : 1));
  const ordered = [...tracks.values()].map((t) => t.config).sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "video" ? -1 : 1));
  return { tracks: ordered, frames: frames.map(({ order: _, ...f }) => f) };
}

const videoScale = (tracks: Map<number, SourceTrack>) => [...tracks.values()].find((t) => t.config.kind === "video")?.config.timescale ?? 1;
const audioScale = (tracks: Map<number, SourceTrack>) => [...tracks.values()].find((t) => t.config.kind === "audio")?.config.timescale ?? 1;

/**
 * The same frames as an RTMP demuxer would give them: both tracks stamped in milliseconds (rounded,
 * as FLV tags carry them) with timescale 1000.
 */
export function toMilliseconds(src: Extracted): Extracted {
  const scale = new Map(src.tracks.map((t) => [t.kind, t.timescale]));
  const ms = (t: number, kind: string) => Math.round((t * 1000) / scale.get(kind as TrackConfig["kind"])!);
  return {
    tracks: src.tracks.map((t) => ({ ...t, timescale: 1000 })),
    frames: src.frames.map((f) => ({ ...f, dts: ms(f.dts, f.kind), pts: ms(f.dts, f.kind) + ms(f.pts - f.dts, f.kind) })),
  };
}
