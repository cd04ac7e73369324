/**
 * The bytes the writer produces, read with a plain DataView walker: brands, sample entries and their
 * configuration boxes, fragment headers (tfhd/tfdt/trun versions and flags, prft).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { BoxWriter } from "../../../src/container/remux/box-writer.ts";
import type { AudioTrackConfig, CodedFrame, TrackConfig } from "../../../src/container/remux/frame.ts";
import { concat } from "../../helpers/feed.ts";
import { cleanup, demuxEvents, framesOf, remux } from "./media.ts";
import { extractFrames } from "./samples.ts";

afterAll(cleanup);

interface Box {
  type: string;
  body: Uint8Array;
}

function boxes(bytes: Uint8Array): Box[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Box[] = [];
  for (let pos = 0; pos < bytes.byteLength; ) {
    const size = v.getUint32(pos);
    if (size < 8 || pos + size > bytes.byteLength) throw new Error(`bad box at ${pos}`);
    out.push({ type: String.fromCharCode(...bytes.subarray(pos + 4, pos + 8)), body: bytes.subarray(pos + 8, pos + size) });
    pos += size;
  }
  return out;
}

/** Boxes along a path of container types, e.g. `moov/trak/mdia`. */
function path(bytes: Uint8Array, ...types: string[]): Box[] {
  let level = boxes(bytes);
  for (let i = 0; i < types.length; i++) {
    const found = level.filter((b) => b.type === types[i]);
    if (i === types.length - 1) return found;
    level = found.flatMap((b) => boxes(b.body));
  }
  return level;
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const fourccs = (b: Uint8Array) => Array.from({ length: b.byteLength / 4 }, (_, i) => String.fromCharCode(...b.subarray(i * 4, i * 4 + 4)));
const ONE = (t: TrackConfig[], f: CodedFrame[]) => remux(demuxEvents(t, f), { fragment: "frame" });

describe("init segment", () => {
  test("ftyp: iso5 major; cmfc only for single-track inits (CMAF puts one track per fragment)", () => {
    const av = framesOf("h264-aac");
    const both = ONE(av.tracks, av.frames.slice(0, 1)).init.bytes;
    const one = ONE([av.tracks[0]!], av.frames.slice(0, 1)).init.bytes;
    expect(fourccs(path(both, "ftyp")[0]!.body)).toEqual(["iso5", "\0\0\0\0", "iso5", "iso6", "mp41"]);
    expect(fourccs(path(one, "ftyp")[0]!.body)).toEqual(["iso5", "\0\0\0\0", "iso5", "iso6", "mp41", "cmfc"]);
  });

  test("moov: one trak per track, empty sample tables, a trex per track, handler and timescales", () => {
    const { tracks, frames } = framesOf("av1-opus");
    const init = ONE(tracks, frames.slice(0, 1)).init.bytes;
    expect(boxes(path(init, "moov")[0]!.body).map((b) => b.type)).toEqual(["mvhd", "trak", "trak", "mvex"]);
    expect(path(init, "moov", "trak", "mdia", "minf", "stbl").map((s) => boxes(s.body).map((b) => b.type))).toEqual([
      ["stsd", "stts", "stsc", "stsz", "stco"],
      ["stsd", "stts", "stsc", "stsz", "stco"],
    ]);
    for (const t of ["stts", "stsc", "stco"])
      for (const b of path(init, "moov", "trak", "mdia", "minf", "stbl", t)) expect(dv(b.body).getUint32(4)).toBe(0);
    expect(path(init, "moov", "trak", "mdia", "minf").map((m) => boxes(m.body)[0]!.type)).toEqual(["vmhd", "smhd"]);
    expect(path(init, "moov", "mvex", "trex").map((b) => dv(b.body).getUint32(4))).toEqual([1, 2]);
    expect(path(init, "moov", "trak", "mdia", "mdhd").map((b) => dv(b.body).getUint32(12))).toEqual([tracks[0]!.timescale, 48000]);
  });

  test("vp09 carries vpcC as a FullBox version 1 around the record", () => {
    const { tracks, frames } = framesOf("vp9-opus");
    const init = ONE(tracks, frames.slice(0, 1)).init.bytes;
    const entry = path(init, "moov", "trak", "mdia", "minf", "stbl", "stsd")[0]!.body.subarray(8);
    const vp09 = boxes(entry)[0]!;
    expect(vp09.type).toBe("vp09");
    const vpcC = boxes(vp09.body.subarray(78))[0]!;
    expect(vpcC.type).toBe("vpcC");
    expect(vpcC.body[0]).toBe(1);
    expect(vpcC.body.subarray(4)).toEqual((tracks[0] as { record: Uint8Array }).record);
  });

  test("dOps: the OpusHead's fields big-endian, Version 0, with the 5.1 channel mapping table", () => {
    const { tracks, frames } = framesOf("opus-51-only");
    const head = (tracks[0] as AudioTrackConfig).config;
    expect(head[18]).toBe(1); // libopus' surround mapping family
    const init = ONE(tracks, frames.slice(0, 1)).init.bytes;
    const entry = path(init, "moov", "trak", "mdia", "minf", "stbl", "stsd")[0]!.body.subarray(8);
    const opus = boxes(entry)[0]!;
    expect(opus.type).toBe("Opus");
    expect(dv(opus.body).getUint16(16)).toBe(6); // channelcount
    expect(dv(opus.body).getUint32(24)).toBe(48000 * 65536); // samplerate 16.16
    const dOps = boxes(opus.body.subarray(28))[0]!;
    expect(dOps.type).toBe("dOps");
    const h = dv(head);
    const d = dv(dOps.body);
    expect([d.getUint8(0), d.getUint8(1), d.getUint16(2), d.getUint32(4), d.getInt16(8), d.getUint8(10)]).toEqual([
      0,
      6,
      h.getUint16(10, true),
      h.getUint32(12, true),
      h.getInt16(16, true),
      1,
    ]);
    expect(dOps.body.subarray(11)).toEqual(head.subarray(19, 19 + 2 + 6));
  });

  test("esds: the AudioSpecificConfig decides the codec string (AAC-LC, HE-AAC, an escaped object type)", () => {
    const { tracks, frames } = framesOf("aac-only");
    const aac = tracks[0] as AudioTrackConfig;
    const mime = (config: Uint8Array) => ONE([{ ...aac, config }], frames.slice(0, 1)).init.mime;
    expect(mime(aac.config)).toBe('audio/mp4; codecs="mp4a.40.2"');
    // AOT 5 (SBR), 24 kHz core (index 6), mono: 00101 0110 0001 ...
    expect(mime(new Uint8Array([0x2b, 0x08, 0x80]))).toBe('audio/mp4; codecs="mp4a.40.5"');
    // AOT 31 escape + 6 bits 10 = AOT 42 (USAC), 48 kHz, stereo.
    expect(mime(new Uint8Array([0xf9, 0x46, 0x20, 0x00]))).toBe('audio/mp4; codecs="mp4a.40.42"');
  });

  test("an AAC track is timed in its AudioSpecificConfig's rate, whatever sampleRate claims", () => {
    const { tracks, frames } = framesOf("aac-only");
    const out = ONE([{ ...(tracks[0] as AudioTrackConfig), sampleRate: 44100 }], frames.slice(0, 1));
    expect(out.init.tracks[0]!.timescale).toBe(48000);
  });
});

describe("fragments", () => {
  const trunOf = (fragment: Uint8Array) =>
    path(fragment, "moof", "traf").map((traf) => {
      const inner = boxes(traf.body);
      const tfhd = inner.find((b) => b.type === "tfhd")!.body;
      const tfdt = inner.find((b) => b.type === "tfdt")!.body;
      const trun = inner.find((b) => b.type === "trun")!.body;
      return {
        tfhd: dv(tfhd).getUint32(0),
        track: dv(tfhd).getUint32(4),
        tfdtVersion: tfdt[0],
        trunVersion: trun[0],
        trunFlags: dv(trun).getUint32(0) & 0xffffff,
      };
    });

  test("prft, moof, mdat; tfhd default-base-is-moof only; tfdt version 1", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const out = ONE(tracks, frames);
    for (const f of out.fragments) {
      expect(boxes(f.bytes).map((b) => b.type)).toEqual(["prft", "moof", "mdat"]);
      for (const t of trunOf(f.bytes)) {
        expect(t.tfhd).toBe(0x020000);
        expect(t.tfdtVersion).toBe(1);
      }
    }
  });

  test("trun: composition offsets only when present; version 1 exactly when one is negative", () => {
    const versions = (name: "h264-aac" | "h264-negcts-aac" | "vp9-opus") => {
      const { tracks, frames } = framesOf(name);
      const out = remux(demuxEvents(tracks, frames), { fragment: { ms: 100 } });
      const seen = new Set<string>();
      for (const f of out.fragments) {
        const video = trunOf(f.bytes).find((t) => t.track === 1);
        if (!video) continue;
        const ctos = extractFrames(concat([out.init.bytes, f.bytes]))
          .frames.filter((x) => x.kind === "video")
          .map((x) => x.pts - x.dts);
        expect(video.trunVersion).toBe(ctos.some((c) => c < 0) ? 1 : 0);
        expect((video.trunFlags & 0x800) !== 0).toBe(ctos.some((c) => c !== 0));
        expect(video.trunFlags & 0x7ff).toBe(0x701);
        seen.add(`v${video.trunVersion}:${(video.trunFlags & 0x800).toString(16)}`);
      }
      return seen;
    };
    expect(versions("h264-aac")).toContain("v0:800");
    expect(versions("h264-negcts-aac")).toContain("v1:800");
    expect(versions("vp9-opus")).toEqual(new Set(["v0:0"]));
  });

  test("prft: version 1, the fragment's video track, NTP seconds since 1900, its first sample's presentation time", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const out = ONE(tracks, frames.slice(0, 10));
    const first = out.fragments[0]!;
    const prft = path(first.bytes, "prft")[0]!.body;
    const v = dv(prft);
    expect([prft[0], v.getUint32(0) & 0xffffff, v.getUint32(4)]).toEqual([1, 0, 1]);
    expect(v.getUint32(8)).toBe(Math.floor(frames[0]!.arrivalMs / 1000) + 2_208_988_800);
    expect(Number(v.getBigUint64(16))).toBe(frames[0]!.pts); // dts + composition offset (a B-frame source)
    expect(frames[0]!.pts).not.toBe(frames[0]!.dts);
    expect(Math.abs(first.prftWallclockMs! - frames[0]!.arrivalMs)).toBeLessThan(1e-3);
  });

  test("audio-only streams refer prft to the audio track", () => {
    const { tracks, frames } = framesOf("opus-only");
    const out = ONE(tracks, frames.slice(0, 3));
    expect(out.fragments.map((f) => dv(path(f.bytes, "prft")[0]!.body).getUint32(4))).toEqual([1, 1, 1]);
  });
});

describe("BoxWriter", () => {
  test("grows by doubling and patches sizes; an exact writer refuses to overflow", () => {
    const w = new BoxWriter(4);
    const box = w.begin(0x66726565); // free
    for (let i = 0; i < 100; i++) w.u32(i);
    w.u64(2 ** 40 + 5);
    w.end(box);
    const out = w.finish();
    expect(out.byteLength).toBe(8 + 400 + 8);
    expect(dv(out).getUint32(0)).toBe(416);
    expect(dv(out).getBigUint64(408)).toBe(2n ** 40n + 5n);
    const exact = new BoxWriter(4, true);
    exact.u32(1);
    expect(exact.finish()).toBe(exact.bytes);
    expect(() => exact.u8(1)).toThrow(RangeError);
  });
});
