import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PARSER_OPTIONS } from "../../../src/container/types.ts";
import { createWebmParser } from "../../../src/container/webm/parser.ts";
import { concat, feedByteByByte, feedRandom, feedWhole, prng, summarize } from "../../helpers/feed.ts";
import { firstVideoKeyframes, probePackets } from "../../helpers/ffprobe.ts";
import { fixture, fixturePath } from "../../helpers/fixtures.ts";
import { CLUSTER_ID, fragmentRanges, fragments, indexOf, inits, TRACKS_ID } from "./helpers.ts";

const parser = () => createWebmParser(DEFAULT_PARSER_OPTIONS);

/** Every WebM fixture with the exact MSE type Chromium gets for it. */
const FIXTURES: Record<string, string> = {
  "vp8-opus.webm": 'video/webm; codecs="vp8,opus"',
  "vp8-vorbis.webm": 'video/webm; codecs="vp8,vorbis"',
  "vp9-opus.webm": 'video/webm; codecs="vp9,opus"',
  "av1.webm": 'video/webm; codecs="av01.0.00M.08"',
  "classic-vp8.webm": 'video/webm; codecs="vp8"',
};

test("the table covers every .webm fixture", () => {
  const readme = readFileSync(fixturePath("README.md"), "utf8");
  const listed = [...readme.matchAll(/^\| ([\w-]+\.webm) \|/gm)].map((m) => m[1]);
  expect(listed.sort()).toEqual(Object.keys(FIXTURES).sort());
});

for (const [name, mime] of Object.entries(FIXTURES)) {
  describe(name, () => {
    const file = fixture(name);
    const events = feedWhole(parser(), file);
    const frags = fragments(events);

    test("whole, byte-by-byte and randomly split feeds give identical events", () => {
      const expected = summarize(events);
      expect(summarize(feedByteByByte(parser(), file))).toEqual(expected);
      for (const seed of [1, 2, 3, 42, 1234]) {
        expect(summarize(feedRandom(parser(), file, seed))).toEqual(expected);
        expect(summarize(feedRandom(parser(), file, seed, 64))).toEqual(expected);
      }
    });

    test("emits exactly one init, first, with the exact mime", () => {
      expect(events[0]?.type).toBe("init");
      expect(inits(events)).toHaveLength(1);
      expect(inits(events)[0]!.mime).toBe(mime);
      expect(frags.length).toBeGreaterThan(1);
    });

    test("init bytes are exactly the bytes before the first Cluster", () => {
      const firstCluster = indexOf(file, CLUSTER_ID, indexOf(file, TRACKS_ID));
      expect(firstCluster).toBeGreaterThan(0);
      expect(inits(events)[0]!.bytes).toEqual(file.subarray(0, firstCluster));
    });

    test("init + fragments concatenate to the file, each fragment one Cluster", () => {
      expect(concat(events.map((e) => e.bytes))).toEqual(file);
      for (const f of frags) expect([...f.bytes.subarray(0, 4)]).toEqual(CLUSTER_ID);
    });

    test("keyframe flags match ffprobe's first video packet per Cluster", () => {
      const oracle = firstVideoKeyframes(probePackets(fixturePath(name)), fragmentRanges(events));
      expect(frags.map((f) => f.keyframe)).toEqual(oracle.map((k) => k ?? false));
      expect(frags[0]!.keyframe).toBe(true);
    });

    test("Cluster timecodes start at 0 and strictly increase, in 1/1000 s", () => {
      expect(frags[0]!.decodeTime).toBe(0);
      for (let i = 1; i < frags.length; i++) expect(frags[i]!.decodeTime).toBeGreaterThan(frags[i - 1]!.decodeTime);
      for (const f of frags) expect(f.timescale).toBe(1000);
    });

    test("buffered counts exactly the bytes pushed but not yet emitted", () => {
      const p = parser();
      const rnd = prng(7);
      let pushed = 0;
      let emitted = 0;
      while (pushed < file.byteLength) {
        const n = Math.min(file.byteLength - pushed, 1 + Math.floor(rnd() * 3000));
        for (const e of p.push(file.slice(pushed, pushed + n))) emitted += e.bytes.byteLength;
        pushed += n;
        expect(p.buffered).toBe(pushed - emitted);
      }
      p.end();
      expect(p.buffered).toBe(0);
    });
  });
}

describe("keyframes mid-cluster (low-bitrate stream generated with ffmpeg)", () => {
  // No checked-in fixture has one: their bitrates put more than 4 KiB in every GOP, so ffmpeg's
  // matroskaenc starts a Cluster at every keyframe. Below 4 KiB per GOP it does not.
  const dir = mkdtempSync(join(tmpdir(), "sluice-webm-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "low.webm");
  const V = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=4"];
  const A = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4"];
  const args = [
    ...V,
    ...A,
    "-c:v",
    "libvpx",
    "-b:v",
    "10k",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
    "-g",
    "15",
    "-keyint_min",
    "15",
    "-c:a",
    "libopus",
    "-b:a",
    "8k",
    "-f",
    "webm",
    "-live",
    "1",
    "pipe:1",
  ];
  const run = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", ...args], { stdout: "pipe" });
  const file = new Uint8Array(run.stdout);

  test("a Cluster whose first video block is not a keyframe is flagged false even if a keyframe follows", async () => {
    expect(run.exitCode).toBe(0);
    await Bun.write(path, file);
    const events = feedWhole(parser(), file);
    const frags = fragments(events);
    const ranges = fragmentRanges(events);
    const packets = probePackets(path);
    const oracle = firstVideoKeyframes(packets, ranges);
    expect(frags.map((f) => f.keyframe)).toEqual(oracle.map((k) => k ?? false));
    const keyPositions = packets.filter((p) => p.kind === "video" && p.keyframe).map((p) => p.pos);
    const midCluster = ranges.filter(([s, e], i) => !frags[i]!.keyframe && keyPositions.some((p) => p >= s && p < e));
    expect(midCluster.length).toBeGreaterThan(0);
    expect(summarize(feedByteByByte(parser(), file))).toEqual(summarize(events));
  });
});
