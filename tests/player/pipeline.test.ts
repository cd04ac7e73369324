/**
 * Pipeline: WebSocket messages → MediaSource. The MediaSource is created while the connection starts
 * (before the stream's type is known) and the first init adds its SourceBuffer to it; appends feed
 * the cadence's arrival statistics and the live-edge controller, which shows the first frame as soon
 * as the first fragment is appended. The media is a real fMP4 fixture split by the real push parser;
 * the browser's MediaSource, SourceBuffer and video element are the fakes of fakes.ts.
 */

import { describe, expect, test } from "bun:test";
import { createParser } from "../../src/container/index.ts";
import { DEFAULT_PARSER_OPTIONS, type FragmentEvent, type InitEvent } from "../../src/container/types.ts";
import type { StreamAnnouncement } from "../../src/protocol/messages.ts";
import { Cadence } from "../../static/player/cadence.ts";
import { LatencyMeter } from "../../static/player/latency-meter.ts";
import { LiveEdgeController } from "../../static/player/live-edge.ts";
import { Pipeline } from "../../static/player/pipeline.ts";
import { fixture } from "../helpers/fixtures.ts";
import { FakeMediaSource, type FakeSourceBuffer, FakeVideo, useFakeClock, useFakeMediaSource, useMediaElementConstants } from "./fakes.ts";

const clock = useFakeClock(100_000);
useMediaElementConstants();
useFakeMediaSource();

const { init, fragments } = (() => {
  const events = createParser("fmp4", DEFAULT_PARSER_OPTIONS).push(fixture("h264-every-frame.mp4"));
  return {
    init: events.find((e) => e.type === "init") as InitEvent,
    fragments: events.filter((e): e is FragmentEvent => e.type === "fragment"),
  };
})();

function announce(): StreamAnnouncement {
  return { type: "stream", stream: "live", mime: init.mime, format: "fmp4", tracks: init.tracks };
}

function setup() {
  const video = new FakeVideo();
  const cadence = new Cadence();
  const edge = new LiveEdgeController(video.asVideo(), {
    target: () => 0.1,
    interval: () => cadence.interval,
    sinceAppend: () => cadence.sinceAppend(clock.now),
    remove: () => undefined,
    play: () => void video.play(),
    now: () => clock.now,
  });
  const events = { unsupported: [] as string[], fatal: [] as string[], appended: 0 };
  const pipeline = new Pipeline(video.asVideo(), cadence, new LatencyMeter(video.asVideo()), edge, {
    unsupported: (w) => void events.unsupported.push(w),
    fatal: (m) => void events.fatal.push(m),
    appended: () => void events.appended++,
  });
  return { video, cadence, edge, pipeline, events };
}

/** Finishes the SourceBuffer's operations one by one; `onAppend(i)` runs before the i-th media append completes. */
function drain(sb: FakeSourceBuffer, onAppend: (i: number) => void = () => undefined): void {
  let media = -1;
  while (sb.updating) {
    const last = sb.calls.at(-1);
    if (last?.call === "appendBuffer" && last.bytes !== init.bytes) onAppend(++media);
    sb.finish();
  }
}

describe("Pipeline: MediaSource ahead of the stream", () => {
  test("the MediaSource is created and attached when the pipeline is, before any message", () => {
    const { video } = setup();
    expect(FakeMediaSource.instances).toHaveLength(1);
    expect(video.src).toBe("blob:fake/1");
    expect(FakeMediaSource.instances[0]!.buffers).toHaveLength(0);
  });

  test("the first stream's init adds its SourceBuffer to that MediaSource (opened meanwhile): no second one", () => {
    const { pipeline, events } = setup();
    const ms = FakeMediaSource.instances[0]!;
    ms.open(); // the browser opened it while the WebSocket connected
    expect(pipeline.stream(announce())).toBe(true);
    pipeline.binary(init.bytes);
    expect(FakeMediaSource.instances).toHaveLength(1);
    expect(ms.buffers.map((b) => b.mime)).toEqual([init.mime]);
    expect(ms.buffers[0]!.appends()).toEqual([init.bytes]);
    expect(pipeline.recreations).toBe(0);
    expect(events.unsupported).toEqual([]);
  });

  test("the init may also come before the MediaSource opened: the SourceBuffer follows on sourceopen", () => {
    const { pipeline } = setup();
    pipeline.stream(announce());
    pipeline.binary(init.bytes);
    const key = fragments.find((f) => f.syncPoint)!;
    pipeline.binary(key.bytes);
    const ms = FakeMediaSource.instances[0]!;
    expect(ms.buffers).toHaveLength(0);
    ms.open();
    expect(ms.buffers[0]!.appends()).toEqual([init.bytes]);
    ms.buffers[0]!.finish();
    expect(ms.buffers[0]!.appends()).toEqual([init.bytes, key.bytes]);
  });

  test("a decode error on a used MediaSource replaces it (one recreation) and the arrival statistics start over", () => {
    const { pipeline, cadence, video } = setup();
    const ms = FakeMediaSource.instances[0]!;
    ms.open();
    pipeline.stream(announce());
    pipeline.binary(init.bytes);
    const sb = ms.buffers[0]!;
    for (const f of fragments.slice(0, 12)) pipeline.binary(f.bytes);
    let end = 0;
    drain(sb, () => {
      clock.now += 40;
      end += 0.04;
      video.buffered.list = [[0, end]];
    });
    expect(cadence.arrivals.size).toBeGreaterThan(0);
    sb.dispatchEvent(new Event("error"));
    expect(FakeMediaSource.instances).toHaveLength(2);
    expect(pipeline.recreations).toBe(1);
    expect(cadence.arrivals.size).toBe(0);
    const next = FakeMediaSource.instances[1]!;
    next.open();
    expect(next.buffers[0]!.appends()).toEqual([init.bytes]); // media resumes at the next sync point
  });
});

describe("Pipeline: appends drive the first frame and the arrival statistics", () => {
  test("the first appended fragment puts the playhead on it at once; the seek to the live edge waits for the queue to drain", () => {
    const { pipeline, video, edge } = setup();
    const ms = FakeMediaSource.instances[0]!;
    ms.open();
    pipeline.stream(announce());
    pipeline.binary(init.bytes);
    const sb = ms.buffers[0]!;
    // The GOP cache arrives at once: 30 fragments queued behind the init.
    for (const f of fragments.slice(0, 30)) pipeline.binary(f.bytes);
    const seeksAt: number[] = [];
    drain(sb, (i) => {
      // What the browser's buffered range would be after this append (1/25 s per frame from 5.0).
      video.buffered.list = [[5, 5 + (i + 1) * 0.04]];
      seeksAt.push(video.seeks.length);
    });
    // After the first append: the playhead went to the first fragment's start (its keyframe).
    expect(video.seeks[0]).toBe(5);
    expect(edge.jumps).toBe(1); // then, once caught up, one seek to the live edge
    expect(video.seeks).toHaveLength(2);
    expect(video.seeks[1]!).toBeGreaterThan(5.8);
    expect(video.paused).toBe(false);
  });

  test("only appends that catch up with the queue are arrival samples, with the buffered end after them", () => {
    const { pipeline, video, cadence } = setup();
    const ms = FakeMediaSource.instances[0]!;
    ms.open();
    pipeline.stream(announce());
    pipeline.binary(init.bytes);
    const sb = ms.buffers[0]!;
    for (const f of fragments.slice(0, 20)) pipeline.binary(f.bytes); // a burst: one sample
    drain(sb, (i) => {
      video.buffered.list = [[0, (i + 1) * 0.04]];
    });
    expect(cadence.arrivals.size).toBe(1);
    for (let i = 20; i < 60; i++) {
      clock.now += 40; // then one fragment at a time, each appended before the next arrives
      pipeline.binary(fragments[i]!.bytes);
      drain(sb, () => {
        video.buffered.list = [[0, (i + 1) * 0.04]];
      });
    }
    expect(cadence.arrivals.size).toBe(41);
    expect(cadence.arrivals.headroom(clock.now)).toBeCloseTo(0.02, 6);
  });
});
