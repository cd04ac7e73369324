/**
 * LiveEdgeController: keeps playback near the live edge (see the numbers in live-edge.ts). The
 * first part drives it tick by tick through its environment (`LiveEdgeEnv`) and a fake video
 * element; the second runs it against a modelled live stream (live-sim.ts) with the real Cadence
 * and AutoTarget. Assertions use the `jumps` / `nudges` counters, the seeks and playbackRate writes
 * on the fake element and the environment calls.
 */

import { describe, expect, test } from "bun:test";
import { DECODE_MARGIN_S } from "../../static/player/auto-target.ts";
import { LiveEdgeController } from "../../static/player/live-edge.ts";
import { FakeVideo, useFakeClock, useMediaElementConstants } from "./fakes.ts";
import { LiveSim } from "./live-sim.ts";

const clock = useFakeClock(100_000);
useMediaElementConstants();

const TICK = 250;

interface Harness {
  video: FakeVideo;
  edge: LiveEdgeController;
  env: { target: number; interval: number; sinceAppend: number; plays: number; removes: Array<[number, number]>; trims: number[] };
  /** One controller step at the current fake time. */
  tick(): void;
  /** Lets `ms` pass (in ticks), playing at the current rate with `lag` seconds buffered ahead. */
  hold(lag: number, ms: number): void;
}

function harness(
  opts: { target?: number; interval?: number; sinceAppend?: number; maxRate?: number; minRate?: number; backWindow?: number } = {},
): Harness {
  const video = new FakeVideo();
  const env = {
    target: opts.target ?? 1,
    interval: opts.interval ?? Number.NaN,
    sinceAppend: opts.sinceAppend ?? 0,
    plays: 0,
    removes: [] as Array<[number, number]>,
    trims: [] as number[],
  };
  const edge = new LiveEdgeController(
    video.asVideo(),
    {
      target: () => env.target,
      interval: () => env.interval,
      sinceAppend: () => env.sinceAppend,
      remove: (start, end) => void env.removes.push([start, end]),
      play: () => {
        env.plays++;
        void video.play();
      },
      now: () => clock.now,
      trim: (seconds) => void env.trims.push(seconds),
    },
    opts.maxRate,
    opts.minRate,
    opts.backWindow,
  );
  const h: Harness = {
    video,
    edge,
    env,
    tick: () => edge.tick(clock.now),
    hold(lag, ms) {
      for (let left = ms; left > 0; left -= TICK) {
        clock.now += TICK;
        const t = video.currentTime + (video.paused ? 0 : (TICK / 1000) * video.playbackRate);
        video.advance(t);
        const r = video.buffered.list.at(-1)!;
        r[1] = t + lag;
        h.tick();
      }
    },
  };
  return h;
}

/**
 * A controller past its start: the initial seek into [100, 100 + lag) was made, playback started,
 * and the 3 s settling period and the 1 s between jumps are over. Returns the jump count so far.
 */
function playing(h: Harness, lag = h.env.target): number {
  h.video.buffered.list = [[100, 100 + lag]];
  h.tick();
  if (h.video.paused) void h.video.play();
  clock.now += 3100;
  return h.edge.jumps;
}

describe("LiveEdgeController: start", () => {
  test("does nothing while nothing is buffered", () => {
    const h = harness();
    h.tick();
    clock.now += 5000;
    h.tick();
    expect(h.video.seeks).toEqual([]);
    expect(h.env.plays).toBe(0);
    expect(h.edge.jumps).toBe(0);
    expect(h.edge.started).toBe(false);
  });

  test("the first data of a mid-stream join gets a seek to the start of the buffered range while the interval is unknown", () => {
    const h = harness({ target: 1 });
    h.video.buffered.list = [[100, 100.4]];
    h.tick();
    expect(h.video.seeks).toEqual([100]);
    expect(h.edge.jumps).toBe(1);
  });

  test("with the interval known, the first seek aims for a mean latency of target over the next fragment: end − (target + interval/2 − sinceAppend)", () => {
    const h = harness({ target: 1, interval: 0.5, sinceAppend: 0.125 });
    h.video.buffered.list = [[100, 105]];
    h.tick();
    expect(h.video.seeks).toEqual([105 - (1 + 0.25 - 0.125)]);
  });

  test("the first seek never lands before the buffered range", () => {
    const h = harness({ target: 1, interval: 0.5 });
    h.video.buffered.list = [[100, 100.5]];
    h.tick();
    expect(h.video.seeks).toEqual([100]);
  });

  test("the first seek goes into the last buffered range", () => {
    const h = harness({ target: 1, interval: 0.5 });
    h.video.buffered.list = [
      [10, 20],
      [50, 50.5],
    ];
    h.tick();
    expect(h.video.seeks).toEqual([50]);
  });

  test("data starting less than 0.2 s ahead of the playhead still gets the playhead moved into it (without counting a jump)", () => {
    const h = harness({ target: 1 });
    h.video.buffered.list = [[0.1, 0.5]];
    h.tick();
    expect(h.video.seeks).toEqual([0.1]);
    expect(h.edge.jumps).toBe(0);
  });

  test("the first seek happens once: later ticks do not seek back into the range", () => {
    const h = harness({ target: 1 });
    h.video.buffered.list = [[100, 101]];
    h.tick();
    h.video.advance(100.5);
    clock.now += TICK;
    h.tick();
    expect(h.video.seeks).toEqual([100]);
  });

  test("playback starts once 0.8 × target is buffered ahead of the playhead", () => {
    const h = harness({ target: 1.25 }); // 0.8 × 1.25 = 1.0
    h.video.buffered.list = [[100, 100.96875]];
    h.tick();
    expect(h.env.plays).toBe(0);
    expect(h.video.paused).toBe(true);
    h.video.buffered.list = [[100, 101]];
    clock.now += TICK;
    h.tick();
    expect(h.env.plays).toBe(1);
    expect(h.video.paused).toBe(false);
  });

  test("playback starts with less buffered once data has been there for more than 1.5 s", () => {
    const h = harness({ target: 1 });
    h.video.buffered.list = [[100, 100.25]];
    h.tick();
    clock.now += 1500;
    h.tick();
    expect(h.env.plays).toBe(0);
    clock.now += 1;
    h.tick();
    expect(h.env.plays).toBe(1);
  });

  test("play is asked for on every tick while the video stays paused (the owner deduplicates)", () => {
    const h = harness({ target: 1 });
    h.env.target = 0.1;
    h.video.buffered.list = [[100, 101]];
    h.video.play = () => Promise.resolve(); // the browser refuses to start
    for (let i = 0; i < 3; i++) {
      h.tick();
      clock.now += TICK;
    }
    expect(h.env.plays).toBe(3);
  });

  test("started: false before data, during the 3 s settling period, and after restart(); true in between", () => {
    const h = harness({ target: 1 });
    expect(h.edge.started).toBe(false);
    h.video.buffered.list = [[100, 101]];
    h.tick();
    expect(h.edge.started).toBe(false);
    clock.now += 3000;
    expect(h.edge.started).toBe(false);
    clock.now += 1;
    expect(h.edge.started).toBe(true);
    h.edge.restart();
    expect(h.edge.started).toBe(false);
  });

  test("restart(): the next buffered data gets a new first seek and settling period", () => {
    const h = harness({ target: 1 });
    playing(h);
    h.edge.restart();
    h.video.buffered.list = [[3, 4]]; // a new MediaSource: a new timeline
    h.video.advance(0);
    clock.now += TICK;
    h.tick();
    expect(h.video.seeks.at(-1)).toBe(3);
    expect(h.edge.started).toBe(false);
  });
});

describe("LiveEdgeController: first frame", () => {
  test("the first appended fragment gets the playhead at once (its keyframe is presented), without a jump or play", () => {
    const h = harness({ target: 0.2, interval: 0.04 });
    h.video.buffered.list = [[100, 100.04]];
    h.edge.appended(clock.now, false); // more of the joined GOP is queued
    expect(h.video.seeks).toEqual([100]);
    expect(h.edge.jumps).toBe(0);
    expect(h.env.plays).toBe(0);
    h.video.buffered.list = [[100, 100.5]];
    h.edge.appended(clock.now, false);
    expect(h.video.seeks).toEqual([100]); // once
  });

  test("once the appends catch up it seeks to the live edge and starts playback, without waiting for a tick", () => {
    const h = harness({ target: 0.2, interval: 0.04 });
    h.video.buffered.list = [[100, 100.04]];
    h.edge.appended(clock.now, false);
    h.video.buffered.list = [[100, 102]];
    clock.now += 80;
    h.edge.appended(clock.now, true);
    expect(h.video.seeks).toEqual([100, 102 - (0.2 + 0.02)]);
    expect(h.edge.jumps).toBe(1);
    expect(h.env.plays).toBe(1);
    h.tick(); // the tick has nothing left to do for the start
    expect(h.video.seeks).toHaveLength(2);
  });

  test("GOP data still arriving after the first seek is followed at once while settling", () => {
    const h = harness({ target: 0.2, interval: 0.04 });
    h.video.buffered.list = [[100, 100.6]];
    h.edge.appended(clock.now, true);
    expect(h.edge.jumps).toBe(1);
    h.video.buffered.list = [[100, 101.6]]; // another second of the GOP came in
    clock.now += 100;
    h.edge.appended(clock.now, true);
    expect(h.edge.jumps).toBe(2);
    expect(h.video.currentTime).toBeCloseTo(101.6 - 0.22, 10);
    h.video.buffered.list = [[100, 101.7]];
    h.edge.appended(clock.now, true); // within half a fragment + 0.3 s of the target: no seek
    expect(h.edge.jumps).toBe(2);
  });
});

describe("LiveEdgeController: catching up after time away", () => {
  test("catchUp() seeks to the edge at once and for 3 s jumps over lags a tick would otherwise play through", () => {
    const h = harness({ target: 0.2, interval: 0.04 });
    const jumps = playing(h, 0.2);
    h.video.buffered.list[0]![1] = h.video.currentTime + 3;
    h.edge.catchUp(clock.now);
    expect(h.edge.jumps).toBe(jumps + 1);
    clock.now += 1100;
    h.hold(0.8, TICK); // 0.8 > 0.2 + 0.02 + 0.3: jumped
    expect(h.edge.jumps).toBe(jumps + 2);
    clock.now += 3000;
    h.hold(0.8, 2 * TICK); // after 3 s: the rate's business again
    expect(h.edge.jumps).toBe(jumps + 2);
  });

  test("a buffer that ran dry while playing makes the late data that follows a jump, not a fast-forward", () => {
    const h = harness({ target: 0.2, interval: 0.04 });
    const jumps = playing(h, 0.2);
    h.video.readyState = 2;
    h.hold(0, 4 * TICK);
    h.video.readyState = 4;
    h.hold(2, TICK);
    expect(h.edge.jumps).toBe(jumps + 1);
    expect(h.video.playbackRate).toBe(1);
  });
});

describe("LiveEdgeController: user pause", () => {
  test("a user pause is left alone: no play requests, however much is buffered", () => {
    const h = harness({ target: 1 });
    playing(h);
    h.video.pause();
    h.video.buffered.list = [[100, 110]];
    const plays = h.env.plays;
    for (let i = 0; i < 20; i++) {
      clock.now += TICK;
      h.tick();
    }
    expect(h.env.plays).toBe(plays);
    expect(h.edge.started).toBe(false);
    expect(h.edge.nudges).toBe(0);
  });

  test("resuming after a user pause jumps to the live edge", () => {
    const h = harness({ target: 1, interval: 0.5 });
    const jumps = playing(h);
    h.video.pause();
    h.video.buffered.list = [[100, 130]];
    clock.now += 10_000;
    void h.video.play();
    expect(h.edge.jumps).toBe(jumps + 1);
    expect(h.video.currentTime).toBe(130 - 1.25);
    expect(h.edge.started).toBe(true);
  });

  test("restart() forgets a user pause: the new stream is started", () => {
    const h = harness({ target: 1 });
    playing(h);
    h.video.pause();
    h.edge.restart();
    h.video.buffered.list = [[0, 2]];
    h.video.advance(0);
    const plays = h.env.plays;
    h.tick();
    expect(h.env.plays).toBe(plays + 1);
  });

  test("the controller's own play() does not count as a user resume", () => {
    const h = harness({ target: 1 });
    h.video.buffered.list = [[100, 101]];
    h.tick(); // initial seek + play
    expect(h.edge.jumps).toBe(1);
    expect(h.env.plays).toBe(1);
  });
});

describe("LiveEdgeController: jumpToEdge", () => {
  test("returns false with nothing buffered", () => {
    const h = harness();
    expect(h.edge.jumpToEdge(clock.now)).toBe(false);
  });

  test("never seeks backwards, nor forwards by less than 0.2 s", () => {
    const h = harness({ target: 1, interval: 0.5 });
    h.video.buffered.list = [[100, 110]];
    h.video.advance(108.6); // edge target: 110 − 1.25 = 108.75, 0.15 s ahead
    expect(h.edge.jumpToEdge(clock.now)).toBe(false);
    h.video.advance(109.5);
    expect(h.edge.jumpToEdge(clock.now)).toBe(false);
    h.video.advance(108.55);
    expect(h.edge.jumpToEdge(clock.now)).toBe(true);
    expect(h.video.seeks).toEqual([108.75]);
    expect(h.edge.jumps).toBe(1);
  });

  test("aims at least 0.1 s behind the buffered end", () => {
    const h = harness({ target: 0.01, interval: 0.1, sinceAppend: 0.1 });
    h.video.buffered.list = [[100, 110]];
    h.edge.jumpToEdge(clock.now);
    expect(h.video.seeks).toEqual([109.9]);
  });

  test("resets playbackRate to 1", () => {
    const h = harness({ target: 1, interval: 0.5 });
    h.video.buffered.list = [[100, 110]];
    h.video.playbackRate = 1.2;
    h.edge.jumpToEdge(clock.now);
    expect(h.video.playbackRate).toBe(1);
  });
});

describe("LiveEdgeController: playback rate", () => {
  // target 0.4 s, 0.1 s fragments: tolerance max(0.03, 0.4 / 4, 0.1 / 4) = 0.1 s: speed up over
  // +0.1 (back to 1.0 under +0.025), slow down under −0.125 (back to 1.0 over −0.033); 1 s window;
  // jump above 2.9 s.
  const opts = { target: 0.4, interval: 0.1 };

  test("holds 1.0 inside the band around the target", () => {
    for (const lag of [0.3, 0.4, 0.49]) {
      const h = harness(opts);
      playing(h);
      h.hold(lag, 3000);
      expect(h.video.playbackRate).toBe(1);
    }
  });

  test("speeds up when the mean latency is more than the tolerance over target: 1 + excess / 2, at least 1.03", () => {
    const h = harness(opts);
    playing(h);
    h.hold(0.6, 1500);
    expect(h.video.playbackRate).toBeCloseTo(1.1, 10);
    const g = harness(opts);
    playing(g);
    g.hold(0.52, 1500);
    expect(g.video.playbackRate).toBeCloseTo(1.06, 10);
  });

  test("the tolerance scales with the target: a 0.1 s target is corrected 0.03 s off", () => {
    const h = harness({ target: 0.1, interval: 1 / 30 });
    playing(h);
    h.hold(0.125, 1500);
    expect(h.video.playbackRate).toBe(1);
    h.hold(0.2, 1500);
    expect(h.video.playbackRate).toBeCloseTo(1.05, 10);
    h.hold(0.055, 1500);
    expect(h.video.playbackRate).toBeCloseTo(0.97, 10);
  });

  test("never plays faster than 1.0 with less than 0.17 s buffered (Chromium's time-stretched audio runs dry there)", () => {
    const h = harness({ target: 0.1, interval: 1 / 30 });
    playing(h);
    h.hold(0.3, 1500);
    expect(h.video.playbackRate).toBeGreaterThan(1);
    h.hold(0.16, 1500); // still over target + tolerance: the mode stays, the rate does not
    expect(h.video.playbackRate).toBe(1);
    h.hold(0.18, TICK);
    expect(h.video.playbackRate).toBeGreaterThan(1);
  });

  test("never plays faster than maxRate (1.2)", () => {
    const h = harness(opts);
    playing(h);
    h.hold(2.4, 1500); // excess 2 s: under the 2.9 s jump threshold
    expect(h.video.playbackRate).toBeCloseTo(1.2, 10);
    expect(Math.max(...h.video.rateWrites)).toBeCloseTo(1.2, 10);
    const fast = harness({ ...opts, maxRate: 1.5 });
    playing(fast);
    fast.hold(2.4, 1500);
    expect(fast.video.playbackRate).toBeCloseTo(1.5, 10);
  });

  test("keeps speeding up until the mean is within a quarter of the tolerance of the target", () => {
    const h = harness(opts);
    playing(h);
    h.hold(0.7, 1500);
    expect(h.video.playbackRate).toBeCloseTo(1.15, 10);
    h.hold(0.45, 1500); // under the entry threshold, over the exit one
    expect(h.video.playbackRate).toBeCloseTo(1.03, 10);
    h.hold(0.42, 1500);
    expect(h.video.playbackRate).toBe(1);
  });

  test("stops speeding up as soon as the lag plus half a fragment is under target, though the mean is still high", () => {
    const h = harness(opts);
    playing(h);
    h.hold(0.9, 1500);
    expect(h.video.playbackRate).toBeCloseTo(1.2, 10);
    h.hold(0.34, TICK); // 0.34 + 0.05 < 0.4; the 1 s mean is still ≈ 0.79
    expect(h.video.playbackRate).toBe(1);
  });

  test("slows down when the mean is more than 1.25 × the tolerance under target: 1 − 0.3 × shortfall, at least 0.03 off", () => {
    const h = harness(opts);
    playing(h);
    h.hold(0.25, 1500);
    expect(h.video.playbackRate).toBeCloseTo(0.955, 10);
  });

  test("never plays slower than minRate (0.9)", () => {
    const h = harness(opts);
    playing(h);
    h.hold(0.05, 1500);
    expect(h.video.playbackRate).toBeCloseTo(0.9, 10);
    expect(Math.min(...h.video.rateWrites)).toBeCloseTo(0.9, 10);
    const slow = harness({ target: 1, interval: 0.2, minRate: 0.8 });
    playing(slow);
    slow.hold(0.5, 1500);
    expect(slow.video.playbackRate).toBeCloseTo(0.85, 10);
    slow.hold(0.2, 1500);
    expect(slow.video.playbackRate).toBeCloseTo(0.8, 10);
  });

  test("keeps slowing down until the mean is within a third of the tolerance of the target", () => {
    const h = harness(opts);
    playing(h);
    h.hold(0.25, 1500);
    h.hold(0.36, 1500);
    // 1 − max(0.03, 0.3 × 0.04) = 0.97; rates within 0.005 of the current one are not rewritten.
    expect(Math.abs(h.video.playbackRate - 0.97)).toBeLessThanOrEqual(0.005);
    expect(h.video.playbackRate).toBeLessThan(1);
    h.hold(0.38, 1500);
    expect(h.video.playbackRate).toBe(1);
  });

  test("plays at 1.0 while the buffer is dry (readyState under HAVE_FUTURE_DATA, or under 0.01 s ahead)", () => {
    const h = harness(opts);
    playing(h);
    h.hold(0.2, 1500);
    expect(h.video.playbackRate).toBeCloseTo(0.94, 10);
    h.video.readyState = 2; // HAVE_CURRENT_DATA
    h.hold(0.2, TICK);
    expect(h.video.playbackRate).toBe(1);
    h.video.readyState = 4;
    h.hold(0.2, TICK);
    expect(h.video.playbackRate).toBeCloseTo(0.94, 10);
    h.hold(0.005, TICK);
    expect(h.video.playbackRate).toBe(1);
  });

  test("an underrun ends a slow-down: with the buffer back at the target, playback goes on at 1.0", () => {
    const h = harness(opts);
    playing(h);
    h.hold(0.2, 1500);
    expect(h.video.playbackRate).toBeLessThan(1);
    h.video.readyState = 2;
    h.hold(0, 2 * TICK);
    h.video.readyState = 4;
    h.hold(0.4, TICK); // the window starts over: its mean is the target, not the dry samples
    expect(h.video.playbackRate).toBe(1);
    h.hold(0.4, 1500);
    expect(h.video.playbackRate).toBe(1);
  });

  test("an excess the rate may not shed (under 0.17 s buffered) is asked to be cut at the next keyframe", () => {
    const h = harness({ target: 0.1, interval: 1 / 30 }); // tolerance 0.03: cut over 0.02
    playing(h);
    h.hold(0.115, 1500);
    expect(h.env.trims.at(-1)).toBe(0); // within half the tolerance: nothing
    h.hold(0.15, 1500);
    expect(h.video.playbackRate).toBe(1);
    expect(h.env.trims.at(-1)).toBeCloseTo(0.05, 10);
    h.hold(0.3, 1500); // over 0.17: the rate takes the part above it, the cut the rest
    expect(h.video.playbackRate).toBeGreaterThan(1);
    expect(h.env.trims.at(-1)).toBeCloseTo(0.07, 10);
    h.video.readyState = 2; // dry: any pending cut is called off
    h.hold(0.1, TICK);
    expect(h.env.trims.at(-1)).toBe(0);
  });

  test("holds 1.0 while the fragment interval is unknown (one long fragment: speeding through it runs dry)", () => {
    const h = harness({ target: 0.5, interval: Number.NaN });
    playing(h, 2);
    h.hold(2, 2000);
    expect(h.video.playbackRate).toBe(1);
    h.env.interval = 0;
    h.hold(2, 1000);
    expect(h.video.playbackRate).toBe(1);
    h.env.interval = 2;
    h.hold(2.7, 5000);
    expect(h.video.playbackRate).toBeGreaterThan(1);
  });

  test("long fragments widen the band to a quarter of the interval", () => {
    // 2 s fragments, target 2: tolerance 0.5 s, 4 s window, jump only above 6 s.
    const within = harness({ target: 2, interval: 2 });
    playing(within);
    within.hold(2.45, 5000);
    expect(within.video.playbackRate).toBe(1);
    within.hold(1.45, 5000);
    expect(within.video.playbackRate).toBe(1);
    const over = harness({ target: 2, interval: 2 });
    playing(over);
    over.hold(3.3, 5000); // right after an append: the coming sawtooth's mean is 3.3 − 1 = 2.3
    expect(over.video.playbackRate).toBeCloseTo(1.2, 10);
    const justArrived = harness({ target: 2, interval: 2 });
    playing(justArrived);
    justArrived.hold(2.6, 5000); // 2.6 − 1 = 1.6: under target by the next append, no speed-up
    expect(justArrived.video.playbackRate).toBe(1);
    const under = harness({ target: 2, interval: 2 });
    playing(under);
    under.hold(1.3, 5000);
    expect(under.video.playbackRate).toBeCloseTo(0.9, 10);
  });

  test("the latency is averaged over max(1 s, 2 intervals): a short spike does not change the rate", () => {
    const h = harness({ target: 1, interval: 1 }); // tolerance 0.25, 2 s window
    playing(h);
    h.hold(1.0, 3000);
    h.hold(1.8, TICK); // one sample: mean (8 × 1.0 + 1.8) / 9 ≈ 1.09
    expect(h.video.playbackRate).toBe(1);
  });

  test("playbackRate is written only when it changes by more than 0.005", () => {
    const h = harness(opts);
    playing(h);
    h.hold(0.6, 1500);
    const writes = h.video.rateWrites.length;
    h.hold(0.6, 3000);
    h.hold(0.605, 1500); // 1.1025 vs 1.1
    expect(h.video.rateWrites.length).toBe(writes);
  });
});

describe("LiveEdgeController: jumps", () => {
  test("jumps to the edge when even the lowest latency of the window is over target + max(2.5 s, 2 intervals)", () => {
    const h = harness({ target: 1, interval: 0.5 }); // threshold 3.5 s over a 1 s window
    const jumps = playing(h);
    h.hold(3.4, 3000);
    expect(h.edge.jumps).toBe(jumps);
    expect(h.video.playbackRate).toBeCloseTo(1.2, 10);
    const seeks = h.video.seeks.length;
    let ticks = 0;
    while (ticks < 8 && h.edge.jumps === jumps) {
      h.hold(3.6, TICK);
      ticks++;
    }
    expect(h.edge.jumps).toBe(jumps + 1);
    // The 1 s window had to forget the 3.4 s samples first: the 5th tick of 3.6 s jumps.
    expect(ticks).toBe(5);
    expect(h.video.seeks.length).toBe(seeks + 1);
    const end = h.video.buffered.list[0]![1];
    expect(h.video.currentTime).toBeCloseTo(end - 1.25, 10);
    expect(h.video.playbackRate).toBe(1);
  });

  test("with long fragments the jump threshold is 2 intervals over target", () => {
    const h = harness({ target: 1, interval: 2 }); // threshold 4 s over a 4 s window
    const jumps = playing(h);
    h.hold(4.9, 6000);
    expect(h.edge.jumps).toBe(jumps);
    h.hold(5.1, 5000);
    expect(h.edge.jumps).toBe(jumps + 1);
  });

  test("during the 3 s after settle() a lag over target + interval/2 + 0.3 s jumps at once", () => {
    const over = harness({ target: 1, interval: 0.5 }); // 1.55 s
    const jumps = playing(over);
    over.edge.settle(clock.now);
    over.hold(1.6, TICK);
    expect(over.edge.jumps).toBe(jumps + 1);

    const under = harness({ target: 1, interval: 0.5 });
    playing(under);
    under.edge.settle(clock.now);
    under.hold(1.5, TICK);
    expect(under.edge.jumps).toBe(jumps);

    const later = harness({ target: 1, interval: 0.5 });
    playing(later);
    later.edge.settle(clock.now);
    clock.now += 3000;
    later.hold(1.6, TICK);
    expect(later.edge.jumps).toBe(jumps);
  });

  test("jumps are at least 1 s apart", () => {
    const h = harness({ target: 1, interval: 0.5 });
    const jumps = playing(h);
    h.edge.settle(clock.now);
    const lagOf = (lag: number): void => {
      h.video.buffered.list[0]![1] = h.video.currentTime + lag;
      h.tick();
    };
    lagOf(3);
    expect(h.edge.jumps).toBe(jumps + 1);
    clock.now += 500;
    lagOf(3);
    clock.now += 500; // exactly 1 s
    lagOf(3);
    expect(h.edge.jumps).toBe(jumps + 1);
    clock.now += 1;
    lagOf(3);
    expect(h.edge.jumps).toBe(jumps + 2);
  });
});

describe("LiveEdgeController: stalls", () => {
  /** Playing, then the playhead stops at `t` with `ranges` buffered; ticks every 100 ms for `ms`. */
  function stuck(h: Harness, t: number, ranges: Array<[number, number]>, ms: number): void {
    h.video.buffered.list = ranges;
    h.video.advance(t);
    for (let left = ms; left >= 0; left -= 100) {
      h.tick();
      clock.now += 100;
    }
  }

  test("a playhead stuck 600 ms at the end of a range is moved over the gap to the next range", () => {
    const h = harness({ target: 9 });
    playing(h);
    stuck(
      h,
      101,
      [
        [100, 101],
        [101.5, 110],
      ],
      500,
    );
    expect(h.edge.nudges).toBe(0);
    stuck(
      h,
      101,
      [
        [100, 101],
        [101.5, 110],
      ],
      100,
    );
    expect(h.edge.nudges).toBe(1);
    expect(h.video.seeks.at(-1)).toBe(101.5);
  });

  test("a playhead stuck inside a gap is moved to the next range", () => {
    const h = harness({ target: 9 });
    playing(h);
    stuck(
      h,
      101.2,
      [
        [100, 101],
        [101.5, 110],
      ],
      700,
    );
    expect(h.edge.nudges).toBe(1);
    expect(h.video.seeks.at(-1)).toBe(101.5);
  });

  test("a playhead stuck with more than 0.5 s buffered ahead is nudged 0.1 s forward", () => {
    const h = harness({ target: 5 });
    playing(h);
    stuck(h, 105, [[100, 110]], 700);
    expect(h.edge.nudges).toBe(1);
    expect(h.video.seeks.at(-1)).toBeCloseTo(105.1, 10);
  });

  test("another nudge needs another 600 ms without progress", () => {
    const h = harness({ target: 5 });
    playing(h);
    h.video.buffered.list = [[100, 110]];
    h.video.advance(105);
    for (let i = 0; i < 20; i++) {
      h.tick();
      clock.now += 100;
    }
    // 2 s stuck: nudges at 600 ms, then 600 ms after the nudge moved the playhead and it stopped again.
    expect(h.edge.nudges).toBe(2);
  });

  test("waiting for data (0.1–0.5 s ahead, or at the end of the buffer with nothing after) is not a stall to fix", () => {
    const waiting = harness({ target: 0.45 });
    playing(waiting);
    stuck(waiting, 100.55, [[100, 101]], 2000); // 0.45 s ahead
    const little = harness({ target: 9.15 });
    playing(little);
    stuck(
      little,
      100.85,
      [
        [100, 101],
        [101.5, 110],
      ],
      2000,
    ); // 0.15 s ahead: not skipped to the next range yet
    const atEnd = harness({ target: 0.05 });
    playing(atEnd);
    stuck(atEnd, 101, [[100, 101]], 2000);
    expect(waiting.edge.nudges + little.edge.nudges + atEnd.edge.nudges).toBe(0);
  });

  test("a paused or seeking video is never nudged", () => {
    const paused = harness({ target: 5 });
    playing(paused);
    paused.video.pause();
    stuck(
      paused,
      101,
      [
        [100, 101],
        [101.5, 110],
      ],
      2000,
    );
    const seeking = harness({ target: 5 });
    playing(seeking);
    seeking.video.seeking = true;
    stuck(
      seeking,
      101,
      [
        [100, 101],
        [101.5, 110],
      ],
      2000,
    );
    expect(paused.edge.nudges + seeking.edge.nudges).toBe(0);
  });

  test("a playhead that moves is never nudged", () => {
    const h = harness({ target: 1, interval: 0.5 });
    playing(h);
    h.hold(1, 10_000);
    expect(h.edge.nudges).toBe(0);
  });
});

describe("LiveEdgeController: back buffer", () => {
  test("asks to remove what is more than backWindow (20 s) behind once more than 25 s is behind the playhead", () => {
    const h = harness({ target: 4.5, interval: 0.5 });
    playing(h);
    h.video.buffered.list = [[0, 30]];
    h.video.advance(25);
    h.tick();
    expect(h.env.removes).toEqual([]); // exactly 25 s behind
    clock.now += TICK;
    h.video.advance(25.5);
    h.tick();
    expect(h.env.removes).toEqual([[0, 5.5]]);
  });

  test("asks at most every 2 s", () => {
    const h = harness({ target: 4, interval: 0.5 });
    playing(h);
    h.video.buffered.list = [[0, 40]];
    h.video.advance(36);
    for (let i = 0; i < 17; i++) {
      h.tick(); // the fake buffer is not trimmed: the controller would ask every tick
      clock.now += TICK;
      h.video.advance(h.video.currentTime + 0.25);
    }
    expect(h.env.removes).toHaveLength(2); // at 0 and 2.25 s, not at 4.25 s yet
    expect(h.env.removes[1]).toEqual([0, 36 + 9 * 0.25 - 20]);
  });

  test("backWindow is a constructor parameter", () => {
    const h = harness({ target: 4, interval: 0.5, backWindow: 10 });
    playing(h);
    h.video.buffered.list = [[0, 20]];
    h.video.advance(16);
    h.tick();
    expect(h.env.removes).toEqual([[0, 6]]);
  });

  test("nothing is removed while paused", () => {
    const h = harness({ target: 4, interval: 0.5 });
    playing(h);
    h.video.pause();
    h.video.buffered.list = [[0, 40]];
    h.video.advance(36);
    h.tick();
    expect(h.env.removes).toEqual([]);
  });
});

describe("LiveEdgeController on a modelled live stream", () => {
  /** The dead band the controller leaves alone, plus the error of its 250 ms sampling of the sawtooth. */
  const tolerance = (interval: number): number => Math.max(0.15, interval / 4) + interval / 8;

  for (const interval of [0.1, 0.5, 1]) {
    test(`a steady stream of ${interval} s fragments settles at the automatic target (half a fragment + the margin): at most one jump, no nudges, no underrun, rate back to 1.0`, () => {
      const sim = new LiveSim(clock, { interval, burst: 2 });
      sim.run(30_000);
      expect(sim.target).toBeCloseTo(interval / 2 + DECODE_MARGIN_S, 3);
      expect(Math.abs(sim.meanLag(15_000) - sim.target)).toBeLessThan(tolerance(interval));
      expect(sim.edge.jumps).toBeLessThanOrEqual(1);
      expect(sim.underruns).toBe(0);
      expect(sim.edge.nudges).toBe(0);
      expect(sim.plays).toBe(1);
      expect(sim.since(15_000).every((s) => s.rate === 1)).toBe(true);
      expect(sim.edge.started).toBe(true);
    });
  }

  test("a lasting drop of the delay (data 1 s earlier from 10 s on) is caught up by playing faster, at most 1.2, without a jump", () => {
    const interval = 0.5;
    const sim = new LiveSim(clock, { interval, burst: 2, delayMs: (i) => (i < 20 ? 1000 : 0) });
    sim.run(30_000);
    const after = sim.since(10_000);
    expect(sim.underruns).toBe(0);
    expect(Math.max(...after.map((s) => s.lag))).toBeGreaterThan(1.2);
    expect(Math.max(...after.map((s) => s.rate))).toBeCloseTo(1.2, 10);
    expect(Math.min(...sim.samples.map((s) => s.rate))).toBeGreaterThanOrEqual(0.9);
    expect(sim.edge.jumps).toBeLessThanOrEqual(1);
    expect(Math.abs(sim.meanLag(25_000) - sim.target)).toBeLessThan(tolerance(interval));
    expect(sim.since(25_000).every((s) => s.rate === 1)).toBe(true);
  });

  test("a 2 s delivery hiccup that runs the buffer dry: the late burst is jumped over at once, not played through fast", () => {
    const interval = 0.5;
    const sim = new LiveSim(clock, { interval, burst: 2, delayMs: (i) => (i >= 20 && i < 24 ? (24 - i) * interval * 1000 : 0) });
    sim.run(10_900);
    expect(sim.underruns).toBe(1);
    const jumps = sim.edge.jumps;
    sim.run(300); // the burst arrives at 11 s
    expect(sim.edge.jumps).toBe(jumps + 1);
    expect(sim.lag).toBeLessThan(sim.target + interval);
    sim.run(18_800);
    expect(Math.max(...sim.since(11_200).map((s) => s.rate))).toBeLessThan(1.2);
    expect(Math.abs(sim.meanLag(25_000) - sim.target)).toBeLessThan(tolerance(interval));
  });

  test("a 4 s delivery hiccup is skipped with a jump to the edge", () => {
    const interval = 0.5;
    const sim = new LiveSim(clock, { interval, burst: 2, delayMs: (i) => (i >= 20 && i < 28 ? (28 - i) * interval * 1000 : 0) });
    sim.run(14_500);
    expect(sim.edge.jumps).toBe(2);
    expect(sim.lag).toBeLessThan(sim.target + interval);
    sim.run(10_000);
    expect(Math.abs(sim.meanLag(20_000) - sim.target)).toBeLessThan(tolerance(interval));
  });

  test("the delay stepping up for good (1.5 s): one underrun at 1.0, then near the target again without a jump or a wide swing", () => {
    const interval = 0.5;
    const sim = new LiveSim(clock, { interval, burst: 2, delayMs: (i) => (i >= 20 ? 1500 : 0) });
    sim.run(30_000);
    const dry = sim.samples.filter((s) => s.readyState < 3 && !s.paused);
    expect(dry.length).toBeGreaterThan(0);
    expect(dry.every((s) => s.rate === 1)).toBe(true);
    expect(sim.underruns).toBe(1);
    expect(sim.edge.jumps).toBe(1);
    expect(sim.edge.nudges).toBe(0);
    const rates = sim.since(10_000).map((s) => s.rate);
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(0.9);
    expect(Math.max(...rates)).toBeLessThanOrEqual(1.2);
    expect(Math.max(...sim.since(12_000).map((s) => s.lag))).toBeLessThan(0.6); // the step is not taken for jitter
    expect(Math.abs(sim.meanLag(25_000) - sim.target)).toBeLessThan(tolerance(interval));
  });

  test("jittery delivery (up to 0.3 s late per fragment) stays within 0.9–1.2 and needs no jump after settling", () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const delays = Array.from({ length: 400 }, () => 300 * rnd());
    const sim = new LiveSim(clock, { interval: 0.2, burst: 3, delayMs: (i) => delays[i] ?? 0 });
    sim.run(5_000); // the GOP burst arrives late (fragment 1 is 276 ms late): one settling jump onto the edge
    const settled = sim.edge.jumps;
    expect(settled).toBeLessThanOrEqual(2);
    sim.run(35_000);
    const rates = sim.samples.map((s) => s.rate);
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(0.9);
    expect(Math.max(...rates)).toBeLessThanOrEqual(1.2);
    expect(sim.edge.jumps).toBe(settled);
    expect(sim.edge.nudges).toBe(0);
    expect(Math.abs(sim.meanLag(10_000) - sim.target)).toBeLessThan(tolerance(0.2) + 0.15);
  });

  test("a long session keeps the back buffer bounded through remove requests", () => {
    const sim = new LiveSim(clock, { interval: 0.5, burst: 2 });
    sim.run(90_000);
    expect(sim.removals.length).toBeGreaterThan(0);
    const start = sim.video.buffered.list[0]![0];
    expect(sim.video.currentTime - start).toBeLessThanOrEqual(25 + 1);
    expect(sim.video.currentTime - start).toBeGreaterThanOrEqual(20);
  });
});
