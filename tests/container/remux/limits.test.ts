/**
 * The remuxer's input comes from hostile publishers through a demuxer: every buffer is capped, every
 * bad event is a typed ParseError, and a failed remuxer stays failed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/container/errors.ts";
import type { AudioTrackConfig, CodedFrame, DemuxEvent, TrackConfig, VideoTrackConfig } from "../../../src/container/remux/frame.ts";
import { createRemuxer } from "../../../src/container/remux/remuxer.ts";
import { cleanup, framesOf } from "./media.ts";

afterAll(cleanup);

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e.reason;
    throw e;
  }
  return undefined;
}

const h264 = () => framesOf("h264-aac");
const video = (): VideoTrackConfig => h264().tracks[0] as VideoTrackConfig;
const audio = (): AudioTrackConfig => h264().tracks[1] as AudioTrackConfig;
const frame = (f: CodedFrame): DemuxEvent => ({ type: "frame", frame: f });

describe("caps", () => {
  test("a frame larger than maxBufferedBytes is too-large, and the remuxer stays failed", () => {
    const { tracks, frames } = h264();
    const key = frames.find((f) => f.kind === "video")!;
    const r = createRemuxer({ fragment: "frame", maxBufferedBytes: key.data.byteLength - 1 });
    r.push({ type: "tracks", tracks });
    expect(reason(() => r.push(frame(key)))).toBe("too-large");
    expect(reason(() => r.push({ type: "end-of-stream" }))).toBe("too-large");
    expect(reason(() => r.end())).toBe("too-large");
  });

  test("pending samples of a long fragment reach the cap: too-large; buffered never exceeds it", () => {
    const { tracks, frames } = h264();
    const cap = 40_000;
    const r = createRemuxer({ fragment: { ms: 10_000 }, maxBufferedBytes: cap });
    r.push({ type: "tracks", tracks });
    let error: string | undefined;
    for (const f of frames) {
      error = reason(() => r.push(frame(f)));
      if (error) break;
      expect(r.buffered).toBeLessThanOrEqual(cap);
    }
    expect(error).toBe("too-large");
  });

  test("the same frames pass under the cap when fragments leave in time", () => {
    const { tracks, frames } = h264();
    const biggest = Math.max(...frames.map((f) => f.data.byteLength));
    const r = createRemuxer({ fragment: "frame", maxBufferedBytes: biggest + 4096 });
    r.push({ type: "tracks", tracks });
    for (const f of frames) r.push(frame(f));
    expect(r.end().length).toBe(1);
  });

  test("a codec record over the cap is too-large", () => {
    const big: VideoTrackConfig = { ...video(), record: new Uint8Array(5000) };
    expect(reason(() => createRemuxer({ fragment: "frame", maxBufferedBytes: 4096 }).push({ type: "tracks", tracks: [big] }))).toBe(
      "too-large",
    );
  });
});

describe("bad events", () => {
  const cases: Array<[string, DemuxEvent[], string]> = [
    ["a frame before any tracks", [frame(h264().frames[0]!)], "fragment-before-init"],
    ["no tracks", [{ type: "tracks", tracks: [] }], "no-usable-track"],
    ["two video tracks", [{ type: "tracks", tracks: [video(), video()] }], "malformed"],
    ["two audio tracks", [{ type: "tracks", tracks: [audio(), audio()] }], "malformed"],
    ["VP8 (not writable)", [{ type: "tracks", tracks: [{ ...video(), codec: "vp8" } as unknown as TrackConfig] }], "unknown-codec"],
    ["a track of no kind", [{ type: "tracks", tracks: [{ kind: "text" } as unknown as TrackConfig] }], "malformed"],
    ["width over 16 bits", [{ type: "tracks", tracks: [{ ...video(), width: 70000 }] }], "malformed"],
    ["timescale 0", [{ type: "tracks", tracks: [{ ...video(), timescale: 0 }] }], "malformed"],
    ["fractional sample rate", [{ type: "tracks", tracks: [{ ...audio(), sampleRate: 44100.5 }] }], "malformed"],
    ["a record that is not bytes", [{ type: "tracks", tracks: [{ ...video(), record: [1, 2, 3] as unknown as Uint8Array }] }], "malformed"],
    ["Opus without an OpusHead", [{ type: "tracks", tracks: [{ ...audio(), codec: "opus", config: new Uint8Array(19) }] }], "malformed"],
    [
      "an avcC without a profile (no codec string)",
      [{ type: "tracks", tracks: [{ ...video(), record: new Uint8Array(2) }] }],
      "unknown-codec",
    ],
    ["an empty av1C (libaom's)", [{ type: "tracks", tracks: [{ ...video(), codec: "av1", record: new Uint8Array(4) }] }], "unknown-codec"],
    ["a negative dts", [{ type: "tracks", tracks: [video()] }, frame({ ...h264().frames[0]!, dts: -1 })], "malformed"],
    ["a NaN pts", [{ type: "tracks", tracks: [video()] }, frame({ ...h264().frames[0]!, pts: Number.NaN })], "malformed"],
    [
      "a composition offset beyond 32 bits",
      [{ type: "tracks", tracks: [video()] }, frame({ ...h264().frames[0]!, pts: 2 ** 33 })],
      "malformed",
    ],
    [
      "a frame without bytes",
      [{ type: "tracks", tracks: [video()] }, frame({ ...h264().frames[0]!, data: "x" as unknown as Uint8Array })],
      "malformed",
    ],
    ["an unknown event", [{ type: "nonsense" } as unknown as DemuxEvent], "malformed"],
  ];
  for (const [name, events, expected] of cases) {
    test(`${name}: ${expected}`, () => {
      const r = createRemuxer({ fragment: "frame" });
      let got: string | undefined;
      for (const ev of events) {
        got = reason(() => r.push(ev));
        if (got) break;
      }
      expect(got).toBe(expected);
    });
  }

  test("bad options are a programming error (RangeError), not a ParseError", () => {
    expect(() => createRemuxer({ fragment: { ms: 0 } })).toThrow(RangeError);
    expect(() => createRemuxer({ fragment: "frame", maxBufferedBytes: 2 ** 40 })).toThrow(RangeError);
  });
});

describe("empty frames", () => {
  test("a flood of zero-byte frames is capped like a flood of large ones", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const key = frames.find((f) => f.kind === "video")!;
    const r = createRemuxer({ fragment: { ms: 60_000 }, maxBufferedBytes: 100_000 });
    r.push({ type: "tracks", tracks });
    r.push(frame(key));
    let error: string | undefined;
    let n = 0;
    for (; n < 100_000 && !error; n++) {
      error = reason(() => r.push(frame({ ...key, keyframe: false, dts: key.dts + 1 + n, pts: key.dts + 1 + n, data: new Uint8Array(0) })));
    }
    expect(error).toBe("too-large");
    expect(n).toBeLessThan(2000);
  });
});
