import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { queueWork } from "../../../src/container/byte-queue.ts";
import { createFmp4Parser } from "../../../src/container/fmp4/parser.ts";
import { DEFAULT_PARSER_OPTIONS, type FragmentEvent, type InitEvent, type ParserEvent } from "../../../src/container/types.ts";
import { concat, feedByteByByte, feedRandom, feedWhole, summarize } from "../../helpers/feed.ts";
import { firstVideoKeyframes, probePackets } from "../../helpers/ffprobe.ts";
import { FIXTURES_DIR, fixture, fixturePath } from "../../helpers/fixtures.ts";
import { fragmentRanges, scanTopLevel } from "./build.ts";

const parser = () => createFmp4Parser(DEFAULT_PARSER_OPTIONS);

/** Exact MSE types, checked against ffprobe's profile/level (see "codec strings agree with ffprobe"). */
const EXPECTED_MIME: Record<string, string> = {
  "aac-only.mp4": 'audio/mp4; codecs="mp4a.40.2"',
  "av1-opus.mp4": 'video/mp4; codecs="av01.0.00M.08,opus"',
  "classic-h264.mp4": 'video/mp4; codecs="avc1.42C01E"',
  "h264-aac-dash-prft.mp4": 'video/mp4; codecs="avc1.64000D,mp4a.40.2"',
  "h264-baseline-aac.mp4": 'video/mp4; codecs="avc1.42C00D,mp4a.40.2"',
  "h264-every-frame.mp4": 'video/mp4; codecs="avc1.64000D,mp4a.40.2"',
  "h264-high-aac-bframes.mp4": 'video/mp4; codecs="avc1.64000D,mp4a.40.2"',
  "h264-main-aac.mp4": 'video/mp4; codecs="avc1.4D400D,mp4a.40.2"',
  "h264-midgop-frags.mp4": 'video/mp4; codecs="avc1.64000D"',
  "h264-opus.mp4": 'video/mp4; codecs="avc1.64000D,opus"',
  "hevc-hvc1.mp4": 'video/mp4; codecs="hvc1.1.6.L60.90"',
  "vp9.mp4": 'video/mp4; codecs="vp09.00.20.08"',
};

const FIXTURES = readdirSync(FIXTURES_DIR)
  .filter((f) => f.endsWith(".mp4"))
  .sort();

interface TimedPacket {
  kind: string;
  pos: number;
  dts: number;
  timescale: number;
}

/** Packet dts in stream time-base ticks, from ffprobe (an independent oracle). */
function probeTiming(path: string): TimedPacket[] {
  const run = (args: string[]) =>
    Bun.spawnSync(["ffprobe", "-v", "error", ...args, path])
      .stdout.toString()
      .trim()
      .split("\n");
  // Durations are left out: ffprobe's demuxer rewrites them (first sample, N/A for some codecs).
  const streams = new Map(
    run(["-show_entries", "stream=index,codec_type,time_base", "-of", "csv=p=0"]).map((l) => {
      const [index, kind, tb] = l.split(",");
      return [Number(index), { kind: kind!, timescale: Number(tb!.split("/")[1]) }];
    }),
  );
  return run(["-show_entries", "packet=stream_index,pos,dts", "-of", "csv=p=0"]).map((l) => {
    const [index, dts, pos] = l.split(",").map(Number);
    const stream = streams.get(index!)!;
    return { kind: stream.kind, timescale: stream.timescale, pos: pos!, dts: dts! };
  });
}

function split(events: ParserEvent[]): { init: InitEvent; fragments: FragmentEvent[] } {
  const [init, ...rest] = events;
  if (init?.type !== "init") throw new Error("first event is not an init");
  return { init, fragments: rest as FragmentEvent[] };
}

test("every .mp4 fixture has an expected mime", () => {
  expect(FIXTURES).toEqual(Object.keys(EXPECTED_MIME).sort());
});

describe.each(FIXTURES)("%s", (name) => {
  const file = fixture(name);
  const whole = feedWhole(parser(), file);
  const { init, fragments } = split(whole);
  const boxes = scanTopLevel(file);
  const ranges = fragmentRanges(boxes);

  test("whole, byte-by-byte and random splits give identical events", () => {
    const expected = summarize(whole);
    expect(summarize(feedByteByByte(parser(), file))).toEqual(expected);
    for (const seed of [1, 2, 3, 42]) expect(summarize(feedRandom(parser(), file, seed))).toEqual(expected);
    expect(summarize(feedRandom(parser(), file, 7, 64))).toEqual(expected);
  });

  test("emits exactly one init, first, with the exact mime", () => {
    expect(whole.filter((e) => e.type === "init")).toHaveLength(1);
    expect(whole[0]!.type).toBe("init");
    expect(init.format).toBe("fmp4");
    expect(init.mime).toBe(EXPECTED_MIME[name]!);
  });

  test("init bytes are the file's bytes before the first fragment", () => {
    expect(Buffer.from(init.bytes).equals(Buffer.from(file.subarray(0, ranges[0]![0])))).toBe(true);
  });

  test("fragments are the file's fragment ranges; init + fragments is the file minus mfra/free/skip", () => {
    expect(fragments.map((f) => f.bytes.byteLength)).toEqual(ranges.map(([s, e]) => e - s));
    fragments.forEach((f, i) => {
      const [s, e] = ranges[i]!;
      expect(Buffer.from(f.bytes).equals(Buffer.from(file.subarray(s, e)))).toBe(true);
    });
    const dropped = new Set(["mfra", "free", "skip"]);
    const moovEnd = boxes.findIndex((b) => b.type === "moov");
    const kept = boxes.filter((b, i) => i <= moovEnd || !dropped.has(b.type));
    const expected = concat(kept.map((b) => file.subarray(b.start, b.start + b.size)));
    const got = concat([init.bytes, ...fragments.map((f) => f.bytes)]);
    expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true);
  });

  test("keyframe flags agree with ffprobe", () => {
    const hasVideo = init.tracks.some((t) => t.kind === "video");
    const oracle = firstVideoKeyframes(probePackets(fixturePath(name)), ranges).map((k) => k ?? !hasVideo);
    expect(fragments.map((f) => f.keyframe)).toEqual(oracle);
  });

  test("sequence numbers increase by 1", () => {
    const seqs = fragments.map((f) => f.sequence!);
    seqs.slice(1).forEach((s, i) => expect(s).toBe(seqs[i]! + 1));
  });

  test("decodeTime and timescale agree with ffprobe's packet dts", () => {
    const packets = probeTiming(fixturePath(name));
    const hasVideo = init.tracks.some((t) => t.kind === "video");
    fragments.forEach((f, i) => {
      const [s, e] = ranges[i]!;
      const inside = packets.filter((p) => p.pos >= s && p.pos < e);
      const video = inside.filter((p) => p.kind === "video");
      const main = hasVideo && video.length > 0 ? video : inside.filter((p) => p.kind === "audio");
      expect(f.decodeTime).toBe(main[0]!.dts);
      expect(f.timescale).toBe(main[0]!.timescale);
    });
  });

  test("each track's next fragment starts where the previous one's duration ends", () => {
    const last = new Map<number, FragmentEvent>();
    // ffmpeg's end-of-stream flush may leave a gap and a 0-duration sample in the last few fragments.
    for (const f of fragments.slice(0, -3)) {
      const prev = last.get(f.timescale);
      if (prev) expect(f.decodeTime).toBe(prev.decodeTime + prev.duration!);
      expect(f.duration).toBeGreaterThan(0);
      last.set(f.timescale, f);
    }
  });

  test("nothing stays buffered after the whole file", () => {
    const p = parser();
    p.push(file);
    expect(p.buffered).toBe(0);
    expect(p.end()).toEqual([]);
  });
});

describe("fixture specifics", () => {
  test("codec strings agree with ffprobe's profile and level", () => {
    const avcProfile: Record<string, string> = { "Constrained Baseline": "42C0", Main: "4D40", High: "6400" };
    for (const name of FIXTURES) {
      const { init } = split(feedWhole(parser(), fixture(name)));
      const r = Bun.spawnSync([
        "ffprobe",
        "-v",
        "error",
        "-show_entries",
        "stream=codec_name,profile,level",
        "-of",
        "csv=p=0",
        fixturePath(name),
      ]);
      for (const line of r.stdout.toString().trim().split("\n")) {
        const [codec, profile, level] = line.split(",");
        if (codec === "h264") {
          const track = init.tracks.find((t) => t.codecId === "avc1")!;
          expect(track.codec).toBe(`avc1.${avcProfile[profile!]}${Number(level).toString(16).toUpperCase().padStart(2, "0")}`);
        } else if (codec === "hevc") {
          expect(init.tracks[0]!.codec).toContain(`.L${level}.`);
        } else if (codec === "aac") {
          expect(profile).toBe("LC");
          expect(init.tracks.find((t) => t.kind === "audio")!.codec).toBe("mp4a.40.2");
        }
      }
    }
  });

  test("tracks carry ids, kinds, timescales and sample-entry properties", () => {
    const { init } = split(feedWhole(parser(), fixture("h264-baseline-aac.mp4")));
    expect(init.tracks).toEqual([
      { id: 1, kind: "video", codec: "avc1.42C00D", codecId: "avc1", timescale: 12800, width: 320, height: 240 },
      { id: 2, kind: "audio", codec: "mp4a.40.2", codecId: "mp4a", timescale: 48000, sampleRate: 48000, channels: 1 },
    ]);
  });

  test("dash+prft: every fragment starts with sidx and carries a sane prft", () => {
    const { fragments } = split(feedWhole(parser(), fixture("h264-aac-dash-prft.mp4")));
    expect(fragments.length).toBeGreaterThan(5);
    for (const f of fragments) {
      expect(String.fromCharCode(...f.bytes.subarray(4, 8))).toBe("sidx");
      expect(f.prftWallclockMs).toBeGreaterThan(Date.UTC(2020, 0, 1));
      expect(f.prftWallclockMs).toBeLessThan(Date.UTC(2100, 0, 1));
      expect(f.prftMediaTime).toBeNumber();
    }
    // Wallclock advances with the stream.
    const wall = fragments.map((f) => f.prftWallclockMs!);
    wall.slice(1).forEach((w, i) => expect(w).toBeGreaterThanOrEqual(wall[i]!));
  });

  test("fragments without prft have no prft fields", () => {
    const { fragments } = split(feedWhole(parser(), fixture("h264-baseline-aac.mp4")));
    for (const f of fragments) {
      expect(f.prftWallclockMs).toBeUndefined();
      expect(f.prftMediaTime).toBeUndefined();
    }
  });

  test("mid-GOP fragments: some start with a keyframe, some do not", () => {
    const keys = split(feedWhole(parser(), fixture("h264-midgop-frags.mp4"))).fragments.map((f) => f.keyframe);
    expect(keys).toContain(true);
    expect(keys).toContain(false);
  });

  test("frag_every_frame: audio-only fragments are not keyframes", () => {
    const { fragments } = split(feedWhole(parser(), fixture("h264-every-frame.mp4")));
    const audio = fragments.filter((f) => f.timescale === 48000);
    expect(audio.length).toBeGreaterThan(10);
    expect(audio.every((f) => !f.keyframe)).toBe(true);
    expect(fragments.some((f) => f.keyframe)).toBe(true);
  });

  test("audio-only stream: every fragment is a keyframe", () => {
    const { fragments } = split(feedWhole(parser(), fixture("aac-only.mp4")));
    expect(fragments.every((f) => f.keyframe && f.timescale === 48000)).toBe(true);
  });

  test("a fragment is emitted by the push that delivers its mdat's last byte, not later", () => {
    const file = fixture("h264-opus.mp4");
    const [, end] = fragmentRanges(scanTopLevel(file))[0]!;
    const p = parser();
    const first = p.push(file.slice(0, end - 1));
    expect(first.map((e) => e.type)).toEqual(["init"]);
    expect(p.buffered).toBe(end - 1 - first[0]!.bytes.byteLength);
    const second = p.push(file.slice(end - 1, end));
    expect(second.map((e) => e.type)).toEqual(["fragment"]);
    expect(p.buffered).toBe(0);
  });

  test("the init is emitted as soon as moov is complete", () => {
    const file = fixture("vp9.mp4");
    const moov = scanTopLevel(file).find((b) => b.type === "moov")!;
    const p = parser();
    expect(p.push(file.slice(0, moov.start + moov.size - 1))).toEqual([]);
    expect(p.push(file.slice(moov.start + moov.size - 1, moov.start + moov.size)).map((e) => e.type)).toEqual(["init"]);
  });

  test("many small fragments cost work in proportion to their bytes (no quadratic path)", () => {
    // Counted, not timed: the queue's copies and steps per byte stay bounded (speed lives in bench/).
    const { init, fragments } = split(feedWhole(parser(), fixture("h264-every-frame.mp4")));
    const block = concat(fragments.map((f) => f.bytes));
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < block.byteLength; i += 65536) chunks.push(block.slice(i, i + 65536));
    const reps = 20;
    const p = parser();
    p.push(init.bytes);
    const before = { ...queueWork };
    let partial = 0;
    for (let r = 0; r < reps; r++) for (const c of chunks) partial += p.push(c).length;
    expect(partial).toBe(fragments.length * reps);
    const bytes = block.byteLength * reps;
    expect((queueWork.copied - before.copied) / bytes).toBeLessThan(2);
    expect(queueWork.steps - before.steps).toBeLessThan(bytes / 64);
  });
});
