import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ParseError } from "../../../src/container/errors.ts";
import { amfObject } from "../../../src/container/flv/amf0.ts";
import { FlvMediaDemuxer } from "../../../src/container/flv/demuxer.ts";
import type { CodedFrame, DemuxEvent } from "../../../src/container/remux/frame.ts";
import { prng } from "../../helpers/feed.ts";
import { readMp4 } from "../../ingest/rtmp/mp4-samples.ts";
import { ascFromEsds, opusHeadFromDops } from "../remux/samples.ts";

/**
 * FLV payloads → DemuxEvents. Decoder configuration records come from the committed ffmpeg fixtures
 * (tests/fixtures), so SPS parsing runs on real encoder output.
 */

const fixture = (name: string) => readMp4(new Uint8Array(readFileSync(join(import.meta.dir, "../../fixtures", name))));
const h264 = fixture("h264-baseline-aac.mp4");
const avcC = h264.find((t) => t.handler === "vide")!.config;
const asc = ascFromEsds(h264.find((t) => t.handler === "soun")!.config);
const hvcC = fixture("hevc-hvc1.mp4")[0]!.config;
const vpcC = fixture("vp9.mp4")[0]!.config;
const av1Tracks = fixture("av1-opus.mp4");
const av1C = av1Tracks.find((t) => t.handler === "vide")!.config;
const dOps = av1Tracks.find((t) => t.handler === "soun")!.config;

const fourcc = (f: string) => [...f].map((c) => c.charCodeAt(0));
const nal = (...units: number[][]) =>
  Uint8Array.from(units.flatMap((u) => [(u.length >>> 24) & 0xff, (u.length >> 16) & 0xff, (u.length >> 8) & 0xff, u.length & 0xff, ...u]));

const avcSeq = (record = avcC) => Uint8Array.from([0x17, 0, 0, 0, 0, ...record]);
const avcFrame = (key: boolean, cts: number, data: Uint8Array) =>
  Uint8Array.from([key ? 0x17 : 0x27, 1, (cts >> 16) & 0xff, (cts >> 8) & 0xff, cts & 0xff, ...data]);
const aacSeq = () => Uint8Array.from([0xaf, 0, ...asc]);
const aacFrame = (n: number) => Uint8Array.from([0xaf, 1, ...new Array(n).fill(0x21)]);
const IDR = [0x65, 0x88, 0x84, 0x00];
const SLICE = [0x41, 0x9a, 0x02];

function frames(events: DemuxEvent[], kind?: "video" | "audio"): CodedFrame[] {
  return events.flatMap((e) => (e.type === "frame" && (!kind || e.frame.kind === kind) ? [e.frame] : []));
}
function types(events: DemuxEvent[]): string[] {
  return events.map((e) => (e.type === "frame" ? e.frame.kind : e.type));
}

describe("legacy FLV (H.264 + AAC)", () => {
  test("held until both announced configs are known, then one tracks event and the frames in order", () => {
    const d = new FlvMediaDemuxer();
    d.metadata(amfObject({ width: 320, height: 240, videocodecid: 7, audiocodecid: 10 }, "ecma-array"));
    const out: DemuxEvent[] = [];
    out.push(...d.video(0, avcSeq(), 1));
    out.push(...d.video(0, avcFrame(true, 40, nal([0x09, 0xf0], [0x67, 1, 2], [0x68, 3], [0x06, 5], IDR)), 2));
    out.push(...d.video(33, avcFrame(false, 0, nal(SLICE)), 3));
    expect(out).toEqual([]);
    out.push(...d.audio(0, aacSeq(), 4));
    out.push(...d.audio(10, aacFrame(5), 5));
    expect(types(out)).toEqual(["tracks", "video", "video", "audio"]);
    const first = out[0]!;
    const tracks = first.type === "tracks" ? first.tracks : [];
    expect(tracks).toEqual([
      { kind: "video", codec: "avc", record: avcC, width: 320, height: 240, timescale: 1000 },
      { kind: "audio", codec: "aac", config: asc, sampleRate: 48000, channels: 1, timescale: 1000 },
    ]);
    const [key, inter] = frames(out, "video");
    // AUD, SPS and PPS removed; SEI and the slice kept, as 4-byte length-prefixed units.
    expect(key).toEqual({ kind: "video", dts: 0, pts: 40, keyframe: true, data: nal([0x06, 5], IDR), arrivalMs: 2 });
    expect(inter).toMatchObject({ dts: 33, pts: 33, keyframe: false, data: nal(SLICE) });
    expect(frames(out, "audio")[0]).toMatchObject({ dts: 10, pts: 10, keyframe: true, data: new Uint8Array(5).fill(0x21) });
  });

  test("gives up waiting after 1 s of media: video alone, then a second tracks event when audio arrives", () => {
    const warnings: string[] = [];
    const d = new FlvMediaDemuxer({ warn: (code) => warnings.push(code) });
    d.metadata(amfObject({ videocodecid: 7, audiocodecid: 10 }));
    const out: DemuxEvent[] = [...d.video(0, avcSeq(), 0)];
    for (let t = 0; t <= 1000; t += 100) out.push(...d.video(t, avcFrame(t === 0, 0, nal(t === 0 ? IDR : SLICE)), t));
    expect(types(out)).toEqual(["tracks", ...new Array(11).fill("video")]);
    expect(warnings).toEqual(["late-track"]);
    out.push(...d.audio(1010, aacSeq(), 0), ...d.audio(1020, aacFrame(3), 0));
    expect(types(out).slice(-2)).toEqual(["tracks", "audio"]);
  });

  test("without metadata, sequence headers sent back to back make one tracks event", () => {
    const d = new FlvMediaDemuxer();
    const out = [...d.video(0, avcSeq(), 0), ...d.audio(0, aacSeq(), 0), ...d.video(0, avcFrame(true, 0, nal(IDR)), 0)];
    expect(types(out)).toEqual(["tracks", "video"]);
  });

  test("video before the first keyframe is dropped; a new avcC is a new init and needs a keyframe again", () => {
    const d = new FlvMediaDemuxer();
    const out = [
      ...d.video(0, avcSeq(), 0),
      ...d.video(0, avcFrame(false, 0, nal(SLICE)), 0),
      ...d.video(33, avcFrame(true, 0, nal(IDR)), 0),
    ];
    expect(d.stats.droppedBeforeKeyframe).toBe(1);
    out.push(...d.video(66, avcSeq(), 0)); // the same record again: nothing changes
    out.push(...d.video(66, avcFrame(false, 0, nal(SLICE)), 0));
    const other = avcC.slice();
    other[3] = other[3]! ^ 1; // another level_idc: another record
    out.push(
      ...d.video(100, avcSeq(other), 0),
      ...d.video(100, avcFrame(false, 0, nal(SLICE)), 0),
      ...d.video(133, avcFrame(true, 0, nal(IDR)), 0),
    );
    expect(types(out)).toEqual(["tracks", "video", "video", "tracks", "video"]);
    expect(d.stats.droppedBeforeKeyframe).toBe(2);
  });

  test("2-byte NAL lengths become 4-byte ones", () => {
    const record = avcC.slice();
    record[4] = 0xfc | 1;
    const d = new FlvMediaDemuxer();
    const two = Uint8Array.from([0, IDR.length, ...IDR, 0, SLICE.length, ...SLICE]);
    const out = [...d.video(0, avcSeq(record), 0), ...d.video(0, avcFrame(true, 0, two), 0)];
    expect(frames(out)[0]!.data).toEqual(nal(IDR, SLICE));
  });

  test("32-bit timestamps unwrap across 2^32; a step back is raised to keep dts increasing", () => {
    const d = new FlvMediaDemuxer();
    const out = [...d.audio(0, aacSeq(), 0)];
    for (const t of [0xffffffc0, 0xffffffe0, 0x00000000, 0x00000020, 0x00000010]) out.push(...d.audio(t, aacFrame(2), 0));
    expect(frames(out).map((f) => f.dts)).toEqual([0xffffffc0, 0xffffffe0, 2 ** 32, 2 ** 32 + 0x20, 2 ** 32 + 0x21]);
    expect(d.stats.timestampFixes).toBe(1);
  });

  test("an unsupported video codec is an error; unsupported audio is dropped with one warning", () => {
    const d = new FlvMediaDemuxer({ warn: (code, detail) => warnings.push(`${code} ${detail}`) });
    const warnings: string[] = [];
    for (const sorensonOrVp6 of [Uint8Array.from([0x12, 0, 0]), Uint8Array.from([0x14, 0])]) {
      let error: unknown;
      try {
        d.video(0, sorensonOrVp6, 0);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ParseError);
      expect((error as ParseError).reason).toBe("unknown-codec");
    }
    expect(d.audio(0, Uint8Array.from([0x2f, 0xff, 0xfb]), 0)).toEqual([]);
    expect(d.audio(20, Uint8Array.from([0x2f, 0xff, 0xfb]), 0)).toEqual([]);
    expect(d.stats.unsupportedAudioPackets).toBe(2);
    expect(warnings).toEqual([
      "unsupported-audio audio: FLV SoundFormat 2 is not carried (Sluice carries AAC and Opus); going on without audio",
    ]);
  });

  test("end() releases held frames and ends the stream", () => {
    const d = new FlvMediaDemuxer();
    d.metadata(amfObject({ videocodecid: 7, audiocodecid: 10 }));
    d.video(0, avcSeq(), 0);
    d.video(0, avcFrame(true, 0, nal(IDR)), 0);
    expect(types(d.end())).toEqual(["tracks", "video", "end-of-stream"]);
  });
});

describe("Enhanced RTMP payloads", () => {
  const exSeq = (f: string, record: Uint8Array) => Uint8Array.from([0x90, ...fourcc(f), ...record]);
  const exFrames = (f: string, key: boolean, packetType: number, body: number[]) =>
    Uint8Array.from([0x80 | ((key ? 1 : 2) << 4) | packetType, ...fourcc(f), ...body]);

  test("HEVC: SequenceStart, CodedFrames with SI24 composition time, CodedFramesX, ModEx and Metadata skipped", () => {
    const d = new FlvMediaDemuxer();
    const hevcIdr = [0x26, 0x01, 0xaf];
    const hevcAud = [0x46, 0x01, 0x50];
    const out = [...d.video(0, exSeq("hvc1", hvcC), 0)];
    out.push(...d.video(0, exFrames("hvc1", true, 1, [0xff, 0xff, 0xf6, ...nal(hevcAud, hevcIdr)]), 0)); // cts -10
    // ModEx (TimestampOffsetNano, 3 bytes) wrapping CodedFramesX.
    out.push(
      ...d.video(33, Uint8Array.from([0x80 | (2 << 4) | 7, 2, 0, 0, 1, (0 << 4) | 3, ...fourcc("hvc1"), ...nal([0x02, 0x01, 0x11])]), 0),
    );
    out.push(...d.video(33, Uint8Array.from([0x80 | (1 << 4) | 4, ...fourcc("hvc1"), 2, 0, 0]), 0)); // Metadata: ignored
    expect(types(out)).toEqual(["tracks", "video", "video"]);
    expect(out[0]).toMatchObject({ tracks: [{ codec: "hevc", width: 320, height: 240, record: hvcC }] });
    expect(frames(out).map((f) => [f.dts, f.pts, f.keyframe, f.data])).toEqual([
      [0, -10, true, nal(hevcIdr)],
      [33, 33, false, nal([0x02, 0x01, 0x11])],
    ]);
    expect(d.stats.ignoredPackets).toBe(1);
  });

  test("AV1: temporal delimiters and padding OBUs removed; size from onMetaData", () => {
    const d = new FlvMediaDemuxer();
    d.metadata(amfObject({ width: 640, height: 360 }, "ecma-array"));
    const seqHeaderObu = [0x0a, 0x02, 0xaa, 0xbb];
    const frameObu = [0x32, 0x03, 1, 2, 3];
    const out = [
      ...d.video(0, exSeq("av01", av1C), 0),
      ...d.video(0, exFrames("av01", true, 1, [0x12, 0x00, ...seqHeaderObu, 0x7a, 0x01, 0, ...frameObu]), 0),
    ];
    expect(out[0]).toMatchObject({ tracks: [{ codec: "av1", width: 640, height: 360, record: av1C }] });
    expect(frames(out)[0]!.data).toEqual(Uint8Array.from([...seqHeaderObu, ...frameObu]));
  });

  test("VP9: a vpcC written with its FullBox version/flags loses them", () => {
    const d = new FlvMediaDemuxer();
    const out = [
      ...d.video(0, exSeq("vp09", Uint8Array.from([1, 0, 0, 0, ...vpcC])), 0),
      ...d.video(0, exFrames("vp09", true, 1, [0x82, 0x49, 0x83]), 0),
    ];
    expect(out[0]).toMatchObject({ tracks: [{ codec: "vp9", record: vpcC }] });
    expect(frames(out)[0]!.data).toEqual(Uint8Array.from([0x82, 0x49, 0x83]));
  });

  test("Opus: the OpusHead sent, or a built stereo one for an empty sequence start; mp4a is AAC", () => {
    const head = opusHeadFromDops(dOps);
    const a = new FlvMediaDemuxer();
    const out = [
      ...a.audio(0, Uint8Array.from([0x90, ...fourcc("Opus"), ...head]), 0),
      ...a.audio(0, Uint8Array.from([0x91, ...fourcc("Opus"), 0xfc, 1]), 0),
    ];
    expect(out[0]).toMatchObject({ tracks: [{ codec: "opus", config: head, sampleRate: 48000, channels: 1 }] });
    const b = new FlvMediaDemuxer();
    const built = [
      ...b.audio(0, Uint8Array.from([0x90, ...fourcc("Opus")]), 0),
      ...b.audio(0, Uint8Array.from([0x91, ...fourcc("Opus"), 0xfc]), 0),
    ];
    expect(built[0]).toMatchObject({ tracks: [{ codec: "opus", channels: 2 }] });
    const c = new FlvMediaDemuxer();
    const aac = [
      ...c.audio(0, Uint8Array.from([0x90, ...fourcc("mp4a"), ...asc]), 0),
      ...c.audio(0, Uint8Array.from([0x91, ...fourcc("mp4a"), 7, 7]), 0),
    ];
    expect(aac[0]).toMatchObject({ tracks: [{ codec: "aac", config: asc }] });
    expect(frames(aac)[0]!.data).toEqual(Uint8Array.from([7, 7]));
  });

  test("multitrack: only the first track of each kind is carried, the others counted and warned once", () => {
    const warnings: string[] = [];
    const d = new FlvMediaDemuxer({ warn: (code) => warnings.push(code) });
    // Multitrack (6), ManyTracks (1) of SequenceStart (0) with FourCC hvc1: track 0 and track 1.
    const track = (id: number, body: Uint8Array) => [
      id,
      (body.byteLength >> 16) & 0xff,
      (body.byteLength >> 8) & 0xff,
      body.byteLength & 0xff,
      ...body,
    ];
    const seq = Uint8Array.from([0x80 | (1 << 4) | 6, (1 << 4) | 0, ...fourcc("hvc1"), ...track(0, hvcC), ...track(1, hvcC)]);
    const idr = nal([0x26, 0x01, 0xaf]);
    const cts0 = Uint8Array.from([0, 0, 0, ...idr]);
    const frame = Uint8Array.from([0x80 | (1 << 4) | 6, (1 << 4) | 1, ...fourcc("hvc1"), ...track(0, cts0), ...track(1, cts0)]);
    const out = [...d.video(0, seq, 0), ...d.video(0, frame, 0)];
    expect(types(out)).toEqual(["tracks", "video"]);
    expect(d.stats.extraTrackPackets).toBe(2);
    expect(warnings).toEqual(["extra-track"]);
    // OneTrack carries a track id and no size.
    const one = new FlvMediaDemuxer();
    const oneOut = [
      ...one.audio(0, Uint8Array.from([0x95, (0 << 4) | 0, ...fourcc("mp4a"), 0, ...asc]), 0),
      ...one.audio(0, Uint8Array.from([0x95, (0 << 4) | 1, ...fourcc("mp4a"), 0, 9]), 0),
    ];
    expect(frames(oneOut)[0]!.data).toEqual(Uint8Array.from([9]));
  });

  test("multitrack: ManyTracksManyCodecs names a FourCC per track; a nested Multitrack or an unknown AvMultitrackType is malformed", () => {
    const sized = (id: number, f: string, body: Uint8Array) => [...fourcc(f), id, 0, 0, body.byteLength, ...body];
    const d = new FlvMediaDemuxer();
    const head = opusHeadFromDops(dOps);
    const out = [
      ...d.audio(0, Uint8Array.from([0x95, (2 << 4) | 0, ...sized(0, "mp4a", asc), ...sized(1, "Opus", head)]), 0),
      ...d.audio(
        0,
        Uint8Array.from([0x95, (2 << 4) | 1, ...sized(0, "mp4a", Uint8Array.of(9)), ...sized(1, "Opus", Uint8Array.of(0xfc))]),
        0,
      ),
    ];
    expect(out[0]).toMatchObject({ tracks: [{ codec: "aac", config: asc }] });
    expect(frames(out).map((f) => [...f.data])).toEqual([[9]]);
    expect(d.stats.extraTrackPackets).toBe(2);
    const malformed = (f: () => unknown, what: string) => expect(f).toThrow(new ParseError("malformed", what));
    malformed(
      () => new FlvMediaDemuxer().audio(0, Uint8Array.from([0x95, (0 << 4) | 5, ...fourcc("mp4a")]), 0),
      "nested audio Multitrack packet type",
    );
    malformed(
      () => new FlvMediaDemuxer().video(0, Uint8Array.from([0x80 | (1 << 4) | 6, (0 << 4) | 6, ...fourcc("hvc1")]), 0),
      "nested video Multitrack packet type",
    );
    malformed(() => new FlvMediaDemuxer().audio(0, Uint8Array.from([0x95, (3 << 4) | 1, ...fourcc("mp4a")]), 0), "AvMultitrackType 3");
    malformed(
      () => new FlvMediaDemuxer().video(0, Uint8Array.from([0x80 | (1 << 4) | 6, (3 << 4) | 1, ...fourcc("hvc1")]), 0),
      "AvMultitrackType 3",
    );
  });

  test("fuzz: mutated and truncated payloads only ever raise ParseError", () => {
    const rnd = prng(7);
    const bases = [
      avcSeq(),
      avcFrame(true, 3, nal([0x06, 1], IDR)),
      aacSeq(),
      aacFrame(4),
      exSeq("hvc1", hvcC),
      exSeq("av01", av1C),
      exFrames("av01", true, 1, [0x12, 0, 0x32, 1, 9]),
    ];
    for (let i = 0; i < 3000; i++) {
      const d = new FlvMediaDemuxer();
      for (let k = 0; k < 4; k++) {
        const b = bases[Math.floor(rnd() * bases.length)]!.slice();
        for (let m = 0; m < 1 + Math.floor(rnd() * 3); m++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
        try {
          if (rnd() < 0.5) d.video(k * 10, cut, 0);
          else d.audio(k * 10, cut, 0);
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }
    }
  });
});
