import { Reader } from "../../../src/container/reader.ts";

/**
 * Test-side extractor for a plain (non-fragmented) MP4 written by ffmpeg: per track its sample entry
 * type, decoder configuration box payload and samples with times in ms. Just enough to feed the test
 * E-RTMP publisher with real encoder output.
 */
interface Mp4Sample {
  dtsMs: number;
  ctsMs: number;
  keyframe: boolean;
  data: Uint8Array;
}

export interface Mp4Track {
  handler: string;
  /** Sample entry type: avc1, hvc1, hev1, av01, vp09, mp4a, Opus. */
  entry: string;
  /** Payload of the configuration child box (avcC, hvcC, av1C, vpcC without its FullBox header, esds, dOps). */
  config: Uint8Array;
  configType: string;
  width: number;
  height: number;
  samples: Mp4Sample[];
}

interface Box {
  type: string;
  body: Uint8Array;
}

function boxes(bytes: Uint8Array): Box[] {
  const out: Box[] = [];
  const r = new Reader(bytes);
  while (r.remaining >= 8) {
    let size = r.u32();
    const type = r.fourcc();
    let header = 8;
    if (size === 1) {
      size = r.u64();
      header = 16;
    } else if (size === 0) {
      size = r.remaining + 8;
    }
    out.push({ type, body: r.sub(size - header).bytes });
  }
  return out;
}

function child(bytes: Uint8Array, path: string[]): Uint8Array {
  let cur = bytes;
  for (const type of path) {
    const b = boxes(cur).find((x) => x.type === type);
    if (!b) throw new Error(`no ${type} box`);
    cur = b.body;
  }
  return cur;
}

const VISUAL = new Set(["avc1", "avc3", "hvc1", "hev1", "av01", "vp09"]);
const CONFIG_BOXES = ["avcC", "hvcC", "av1C", "vpcC", "esds", "dOps"];

export function readMp4(file: Uint8Array): Mp4Track[] {
  const top = boxes(file);
  const moov = top.find((b) => b.type === "moov")!.body;
  return boxes(moov)
    .filter((b) => b.type === "trak")
    .map((trak) => readTrack(file, trak.body));
}

function readTrack(file: Uint8Array, trak: Uint8Array): Mp4Track {
  const mdia = child(trak, ["mdia"]);
  const mdhd = new Reader(child(mdia, ["mdhd"]));
  const version = mdhd.u8();
  mdhd.skip(3 + (version === 1 ? 16 : 8));
  const timescale = mdhd.u32();
  const hdlr = new Reader(child(mdia, ["hdlr"]), 8).fourcc();
  const stbl = child(mdia, ["minf", "stbl"]);
  const stsd = child(stbl, ["stsd"]);
  const entryBox = boxes(stsd.subarray(8))[0]!;
  const visual = VISUAL.has(entryBox.type);
  // SampleEntry (8) + Visual (70) or Audio (20) fields before the child boxes (ISO/IEC 14496-12 §12.1.3, §12.2.3).
  const fieldsLen = visual ? 78 : 28;
  const er = new Reader(entryBox.body);
  let width = 0;
  let height = 0;
  if (visual) {
    er.skip(32);
    width = er.u16();
    height = er.u16();
  }
  const cfg = boxes(entryBox.body.subarray(fieldsLen)).find((b) => CONFIG_BOXES.includes(b.type))!;
  const fullBox = cfg.type === "vpcC" || cfg.type === "esds";
  const config = fullBox && cfg.type === "vpcC" ? cfg.body.subarray(4) : cfg.body;

  const table = (type: string): Reader | undefined => {
    const b = boxes(stbl).find((x) => x.type === type);
    return b ? new Reader(b.body, 4) : undefined;
  };
  const sizes: number[] = [];
  const stsz = table("stsz")!;
  const fixed = stsz.u32();
  const count = stsz.u32();
  for (let i = 0; i < count; i++) sizes.push(fixed || stsz.u32());
  const durations: number[] = [];
  const stts = table("stts")!;
  for (let n = stts.u32(); n > 0; n--) {
    const c = stts.u32();
    const d = stts.u32();
    for (let i = 0; i < c; i++) durations.push(d);
  }
  const offsets: number[] = new Array(count).fill(0);
  const ctts = table("ctts");
  if (ctts) {
    let i = 0;
    for (let n = ctts.u32(); n > 0; n--) {
      const c = ctts.u32();
      const o = ctts.i32();
      for (let k = 0; k < c; k++) offsets[i++] = o;
    }
  }
  const stss = table("stss");
  const sync = new Set<number>();
  if (stss) for (let n = stss.u32(); n > 0; n--) sync.add(stss.u32() - 1);
  const chunkOffsets: number[] = [];
  const stco = table("stco");
  const co64 = table("co64");
  if (stco) for (let n = stco.u32(); n > 0; n--) chunkOffsets.push(stco.u32());
  if (co64) for (let n = co64.u32(); n > 0; n--) chunkOffsets.push(co64.u64());
  const stsc = table("stsc")!;
  const runs: { first: number; per: number }[] = [];
  for (let n = stsc.u32(); n > 0; n--) {
    runs.push({ first: stsc.u32() - 1, per: stsc.u32() });
    stsc.u32();
  }
  const samples: Mp4Sample[] = [];
  let s = 0;
  let dts = 0;
  for (let c = 0; c < chunkOffsets.length && s < count; c++) {
    const run = [...runs].reverse().find((r) => r.first <= c)!;
    let pos = chunkOffsets[c]!;
    for (let k = 0; k < run.per && s < count; k++, s++) {
      samples.push({
        dtsMs: Math.round((dts * 1000) / timescale),
        ctsMs: Math.round(((dts + offsets[s]!) * 1000) / timescale) - Math.round((dts * 1000) / timescale),
        keyframe: !stss || sync.has(s),
        data: file.subarray(pos, pos + sizes[s]!),
      });
      pos += sizes[s]!;
      dts += durations[s] ?? 0;
    }
  }
  return { handler: hdlr, entry: entryBox.type, config, configType: cfg.type, width, height, samples };
}
