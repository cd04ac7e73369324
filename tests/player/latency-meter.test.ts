/**
 * LatencyMeter: end-to-end latency from `prft` anchors (element time ↔ publisher wallclock) for the
 * frame on screen, else the buffer latency. The video element, requestVideoFrameCallback and the
 * clocks (`performance.now()`, `Date.now()`) are faked.
 */

import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { LatencyMeter } from "../../static/player/latency-meter.ts";
import { FakeVideo, useFakeClock } from "./fakes.ts";

const clock = useFakeClock(500_000);
/** Wallclock (ms since the epoch) that `Date.now()` answers. */
let wall = 1_700_000_000_000;
let dateSpy: ReturnType<typeof spyOn> | undefined;
beforeEach(() => {
  wall = 1_700_000_000_000;
  dateSpy = spyOn(Date, "now").mockImplementation(() => wall);
});
afterEach(() => dateSpy?.mockRestore());

type FrameCallback = (now: number, meta: VideoFrameCallbackMetadata) => void;

/** A video element with requestVideoFrameCallback; `present()` shows a frame. */
class FrameVideo extends FakeVideo {
  callbacks = new Map<number, FrameCallback>();
  cancelled: number[] = [];
  #id = 0;

  requestVideoFrameCallback(cb: FrameCallback): number {
    this.callbacks.set(++this.#id, cb);
    return this.#id;
  }

  cancelVideoFrameCallback(id: number): void {
    this.cancelled.push(id);
    this.callbacks.delete(id);
  }

  /** Presents a frame of element time `mediaTime` at wallclock `displayWallMs`. */
  present(mediaTime: number, displayWallMs: number): void {
    const pending = [...this.callbacks];
    this.callbacks.clear();
    const meta = { mediaTime, expectedDisplayTime: displayWallMs - performance.timeOrigin } as VideoFrameCallbackMetadata;
    for (const [, cb] of pending) cb(clock.now, meta);
  }
}

/** A playing video at `t` with `ahead` seconds buffered. */
function playingAt(t: number, ahead = 1, video = new FakeVideo()): FakeVideo {
  video.buffered.list = [[0, t + ahead]];
  video.advance(t);
  video.paused = false;
  return video;
}

describe("LatencyMeter buffer latency", () => {
  test("without anchors the latency is buffered end − currentTime, kind buffer", () => {
    const v = playingAt(10, 0.75);
    expect(new LatencyMeter(v.asVideo()).sample()).toEqual({ latency: 0.75, kind: "buffer" });
  });

  test("is NaN with nothing buffered and 0 with the playhead past the buffered end", () => {
    const v = new FakeVideo();
    const m = new LatencyMeter(v.asVideo());
    expect(m.sample().latency).toBeNaN();
    v.buffered.list = [[0, 5]];
    v.advance(5.2);
    expect(m.sample()).toEqual({ latency: 0, kind: "buffer" });
  });

  test("uses the last buffered range", () => {
    const v = playingAt(3);
    v.buffered.list = [
      [0, 4],
      [8, 9.5],
    ];
    expect(new LatencyMeter(v.asVideo()).sample().latency).toBeCloseTo(6.5, 10);
  });
});

describe("LatencyMeter e2e from anchors", () => {
  test("latency of the playhead = now − (anchor wallclock + (currentTime − anchor time))", () => {
    const v = playingAt(12);
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(10, wall - 5000);
    // The frame at 12 s was produced at anchor + 2 s = wall − 3000: 3 s ago.
    expect(m.sample()).toEqual({ latency: 3, kind: "e2e" });
  });

  test("a paused video without frame callbacks reports the buffer latency", () => {
    const v = playingAt(12, 0.5);
    v.paused = true;
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(10, wall - 5000);
    expect(m.sample()).toEqual({ latency: 0.5, kind: "buffer" });
  });

  test("uses the latest anchor at or before the frame (1 ms tolerance)", () => {
    const v = playingAt(15);
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(10, wall - 10_000);
    m.addAnchor(20, wall - 10_000 + 10_000 + 400); // the second anchor's clock says 0.4 s later
    expect(m.sample().latency).toBeCloseTo(5, 10); // first anchor
    v.advance(19.9995);
    expect(m.sample().latency).toBeCloseTo(-0.4 + 0.0005, 6); // second anchor
    v.advance(21);
    expect(m.sample().latency).toBeCloseTo(-1.4, 6);
  });

  test("a frame before every anchor extrapolates from the first one up to 30 s away", () => {
    const v = playingAt(75);
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(100, wall - 1000);
    expect(m.sample()).toEqual({ latency: 26, kind: "e2e" });
    v.advance(69.9);
    expect(m.sample().kind).toBe("buffer");
  });

  test("an anchor more than 30 s behind the frame is not used", () => {
    const v = playingAt(140.5);
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(110, wall - 31_000);
    expect(m.sample().kind).toBe("buffer");
    v.advance(139.5);
    expect(m.sample().kind).toBe("e2e");
  });

  test("an anchor earlier than the last one starts over (a new MediaSource timeline)", () => {
    const v = playingAt(101);
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(100, wall - 2000);
    expect(m.sample().kind).toBe("e2e");
    m.addAnchor(5, wall - 100); // the old anchor at 100 s is gone; 5 s is 96 s from the frame
    expect(m.sample().kind).toBe("buffer");
  });

  test("keeps the last 64 anchors", () => {
    const v = playingAt(0.5);
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(0, wall - 9_000); // a clock that disagrees with the others by 8 s
    for (let i = 1; i <= 63; i++) m.addAnchor(i, wall - 1000 + i * 1000);
    expect(m.sample().latency).toBeCloseTo(8.5, 6); // anchor 0 is still there
    m.addAnchor(64, wall + 63_000);
    expect(m.sample().latency).toBeCloseTo(0.5, 6); // anchor 0 dropped: extrapolated from anchor 1
  });

  test("after boundary(), frames from the boundary on never use anchors from before it", () => {
    const v = playingAt(49);
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(40, wall - 10_000);
    m.boundary(50);
    expect(m.sample().kind).toBe("e2e"); // 49 s: still the old stream
    v.advance(50);
    expect(m.sample().kind).toBe("buffer"); // the new stream carries no anchor yet
    m.addAnchor(50, wall - 700);
    expect(m.sample()).toEqual({ latency: 0.7, kind: "e2e" });
  });

  test("reset() forgets the anchors and the boundary", () => {
    const v = playingAt(12);
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(10, wall - 5000);
    m.boundary(11);
    m.reset();
    expect(m.sample().kind).toBe("buffer");
    m.addAnchor(10, wall - 5000);
    expect(m.sample()).toEqual({ latency: 3, kind: "e2e" }); // no boundary left
  });
});

describe("LatencyMeter with requestVideoFrameCallback", () => {
  test("the presented frame's latency is used for 1 s, then currentTime again", () => {
    const v = playingAt(20, 1, new FrameVideo()) as FrameVideo;
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(10, wall - 10_000);
    m.start();
    expect(v.callbacks.size).toBe(1);
    // Frame 19.5 s (produced at anchor + 9.5 s = wall − 500) displayed 100 ms from now: 0.6 s.
    v.present(19.5, wall + 100);
    expect(v.callbacks.size).toBe(1); // re-registered
    v.paused = true; // a frame sample does not need a playing video
    expect(m.sample().latency).toBeCloseTo(0.6, 6);
    clock.now += 999;
    expect(m.sample().latency).toBeCloseTo(0.6, 6);
    clock.now += 1;
    expect(m.sample().kind).toBe("buffer"); // paused, frame sample too old
    v.paused = false;
    expect(m.sample()).toEqual({ latency: 0, kind: "e2e" }); // currentTime 20 s was produced at `wall`
  });

  test("start() twice follows frames once; stop() cancels the callback", () => {
    const v = new FrameVideo();
    const m = new LatencyMeter(v.asVideo());
    m.start();
    m.start();
    expect(v.callbacks.size).toBe(1);
    m.stop();
    expect(v.callbacks.size).toBe(0);
    expect(v.cancelled).toHaveLength(1);
    m.start();
    expect(v.callbacks.size).toBe(1);
  });

  test("a frame presented after stop() is ignored", () => {
    const v = playingAt(20, 1, new FrameVideo()) as FrameVideo;
    v.paused = true;
    const m = new LatencyMeter(v.asVideo());
    m.addAnchor(10, wall - 10_000);
    m.start();
    const [cb] = [...v.callbacks.values()];
    m.stop();
    cb!(clock.now, { mediaTime: 19.5, expectedDisplayTime: wall + 100 - performance.timeOrigin } as VideoFrameCallbackMetadata);
    expect(m.sample().kind).toBe("buffer");
    expect(v.callbacks.size).toBe(0);
  });

  test("without requestVideoFrameCallback start() and stop() do nothing", () => {
    const v = playingAt(12);
    const m = new LatencyMeter(v.asVideo());
    m.start();
    m.stop();
    m.addAnchor(10, wall - 5000);
    expect(m.sample()).toEqual({ latency: 3, kind: "e2e" });
  });
});
