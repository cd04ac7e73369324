import { describe, expect, test } from "bun:test";
import { createParser, type FragmentEvent, type InitEvent } from "../../src/container/index.ts";
import { initFormat, inspectFragment, readInitFacts } from "../../src/container/inspect.ts";
import { DEFAULT_PARSER_OPTIONS } from "../../src/container/types.ts";
import { feedWhole } from "../helpers/feed.ts";
import { probePackets } from "../helpers/ffprobe.ts";
import { fixture, fixturePath } from "../helpers/fixtures.ts";

const FIXTURES = [
  "aac-only.mp4",
  "av1-opus.mp4",
  "classic-h264.mp4",
  "h264-aac-dash-prft.mp4",
  "h264-baseline-aac.mp4",
  "h264-every-frame.mp4",
  "h264-high-aac-bframes.mp4",
  "h264-main-aac.mp4",
  "h264-midgop-frags.mp4",
  "h264-opus.mp4",
  "hevc-hvc1.mp4",
  "vp9.mp4",
  "av1.webm",
  "classic-vp8.webm",
  "vp8-opus.webm",
  "vp8-vorbis.webm",
  "vp9-opus.webm",
];

/** The init and fragments of a fixture as the push parser emits them, with each fragment's byte range in the file. */
function units(name: string): { init: InitEvent; fragments: Array<{ ev: FragmentEvent; range: [number, number] }> } {
  const bytes = fixture(name);
  const events = feedWhole(createParser(name.endsWith(".webm") ? "webm" : "fmp4", DEFAULT_PARSER_OPTIONS), bytes);
  const init = events.find((e) => e.type === "init") as InitEvent;
  const fragments: Array<{ ev: FragmentEvent; range: [number, number] }> = [];
  let pos = init.bytes.byteLength;
  for (const ev of events) {
    if (ev.type !== "fragment") continue;
    // Fragments are contiguous in the file except for dropped boxes (mfra) at the end.
    const at = indexOf(bytes, ev.bytes, pos);
    fragments.push({ ev, range: [at, at + ev.bytes.byteLength] });
    pos = at + ev.bytes.byteLength;
  }
  return { init, fragments };
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const head = needle.subarray(0, 16);
  for (let i = from; i + needle.byteLength <= hay.byteLength; i++) {
    let ok = true;
    for (let j = 0; j < head.byteLength && ok; j++) ok = hay[i + j] === head[j];
    if (ok) return i;
  }
  throw new Error("fragment not found in its file");
}

describe("inspectFragment (the player's view of a fragment)", () => {
  for (const name of FIXTURES) {
    test(`${name}: every fact equals what the push parser emitted`, () => {
      const { init, fragments } = units(name);
      expect(initFormat(init.bytes)).toBe(init.format as "fmp4" | "webm");
      const facts = readInitFacts(init.bytes);
      expect(fragments.length).toBeGreaterThan(1);
      for (const { ev } of fragments) {
        const { type: _t, bytes, ...expected } = ev;
        expect(inspectFragment(facts, bytes)).toEqual(expected);
      }
    });
  }

  for (const name of FIXTURES) {
    test(`${name}: keyframe and syncPoint agree with ffprobe's keyframe packets`, () => {
      const { fragments } = units(name);
      const video = probePackets(fixturePath(name)).filter((p) => p.kind === "video" && p.pos >= 0);
      for (const { ev, range } of fragments) {
        const inside = video.filter((p) => p.pos >= range[0] && p.pos < range[1]).sort((a, b) => a.pos - b.pos);
        if (video.length === 0) {
          expect([ev.keyframe, ev.syncPoint]).toEqual([true, true]);
          continue;
        }
        expect(ev.keyframe).toBe(inside[0]?.keyframe === true);
        expect(ev.syncPoint).toBe(inside.some((p) => p.keyframe));
      }
    });
  }

  test("a fragment whose keyframe sits mid-fragment is a sync point but not a keyframe fragment", () => {
    // fMP4: GOPs of 10 frames in fragments of at least 3 frames. WebM: tiny frames, so a Cluster is cut at
    // 1 s rather than at a keyframe (ffmpeg's matroskaenc starts one at a keyframe only past 4 KiB).
    const V = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2", "-g", "10", "-keyint_min", "10", "-sc_threshold", "0"];
    const W = ["-f", "lavfi", "-i", "color=size=64x64:rate=25:duration=3", "-g", "5"];
    const made = [
      [
        "mp4",
        [
          ...V,
          "-c:v",
          "libx264",
          "-tune",
          "zerolatency",
          "-f",
          "mp4",
          "-movflags",
          "empty_moov+default_base_moof",
          "-frag_duration",
          "120000",
          "-min_frag_duration",
          "120000",
        ],
      ],
      ["webm", [...W, "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "10k", "-f", "webm", "-live", "1"]],
    ] as const;
    for (const [ext, args] of made) {
      const out = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", ...args, "pipe:1"]);
      expect(out.exitCode).toBe(0);
      const events = feedWhole(createParser(ext === "webm" ? "webm" : "fmp4", DEFAULT_PARSER_OPTIONS), new Uint8Array(out.stdout));
      const facts = readInitFacts((events[0] as InitEvent).bytes);
      const fragments = events.filter((e): e is FragmentEvent => e.type === "fragment");
      const mid = fragments.filter((f) => f.syncPoint && !f.keyframe);
      expect(mid.length).toBeGreaterThan(0);
      for (const f of mid) expect(inspectFragment(facts, f.bytes)).toMatchObject({ keyframe: false, syncPoint: true });
    }
  });

  test("start is the earliest decode time over all tracks, in seconds", () => {
    // Both tracks in one moof: audio often starts before the video sample the fragment is timed by.
    const { fragments } = units("h264-main-aac.mp4");
    for (const { ev } of fragments) expect(ev.start).toBeLessThanOrEqual(ev.decodeTime / ev.timescale);
    expect(fragments.some(({ ev }) => ev.start < ev.decodeTime / ev.timescale - 0.005)).toBe(true);
  });

  test("prft wallclock and media time come out of dash fragments", () => {
    const facts = readInitFacts(units("h264-aac-dash-prft.mp4").init.bytes);
    for (const { ev } of units("h264-aac-dash-prft.mp4").fragments) {
      const f = inspectFragment(facts, ev.bytes);
      expect(f.prftWallclockMs).toBeGreaterThan(Date.UTC(2020, 0, 1));
      expect(f.prftMediaTime).toBeGreaterThanOrEqual(0);
    }
  });

  test("garbage, truncated and empty fragments give unknown facts, never a throw", () => {
    for (const name of ["h264-baseline-aac.mp4", "vp8-opus.webm"]) {
      const { init, fragments } = units(name);
      const facts = readInitFacts(init.bytes);
      const whole = fragments[0]!.ev.bytes;
      for (const bad of [new Uint8Array(0), whole.subarray(0, 20), new Uint8Array(64).fill(0xff), whole.subarray(7)]) {
        const f = inspectFragment(facts, bad);
        expect(f.keyframe && f.syncPoint && Number.isFinite(f.start)).toBe(false);
      }
    }
  });
});
