/**
 * A small model of a live stream playing in a video element, for driving `LiveEdgeController`
 * through time: fragments of `interval` media seconds arrive every `interval` wall seconds (with
 * optional delays) or as a recorded trace says, are appended at the end of the buffered range, and
 * the playhead advances at `playbackRate` while data is ahead of it. The controller's environment is
 * the real `Cadence` (with its `ArrivalJitter`) and `AutoTarget` (or a fixed target), wired as
 * element.ts and pipeline.ts wire them: every append feeds the cadence and `edge.appended`, and the
 * buffer running dry while playing counts as an underrun (the element's `waiting` handler).
 */

import { AutoTarget } from "../../static/player/auto-target.ts";
import { Cadence } from "../../static/player/cadence.ts";
import { LiveEdgeController } from "../../static/player/live-edge.ts";
import { type FakeClock, FakeVideo } from "./fakes.ts";
import type { TraceFragment } from "./traces/traces.ts";

export interface SimOptions {
  /** Media seconds per fragment. */
  interval: number;
  /** Fixed target latency; default: AutoTarget from the cadence. */
  target?: number;
  /** Element time of the first fragment (a mid-stream join). */
  firstStart?: number;
  /** Fragments delivered at once before the live ones (a GOP cache burst). */
  burst?: number;
  /** Extra delay (ms) before fragment `i` is delivered (relative to its nominal time); delivery stays in order. */
  delayMs?: (i: number) => number;
  /** Controller tick period (ms), as element.ts: 250. */
  tickMs?: number;
  /** Deliver these fragments at their recorded times instead (`interval` is then only the model's step hint). */
  trace?: TraceFragment[];
}

export interface Sample {
  at: number;
  lag: number;
  /** playbackRate after the tick. */
  rate: number;
  paused: boolean;
  /** readyState the tick saw. */
  readyState: number;
}

export class LiveSim {
  readonly video = new FakeVideo();
  readonly cadence = new Cadence();
  readonly auto = new AutoTarget();
  readonly edge: LiveEdgeController;
  /** One per controller tick. */
  readonly samples: Sample[] = [];
  /** [wall ms, lag] every 10 ms step: the time-averaged latency is not what 250 ms ticks see. */
  readonly fine: Array<[number, number]> = [];
  readonly removals: Array<[number, number]> = [];
  plays = 0;
  /** Times the buffer ran dry while playing after the start (what the element counts as underruns). */
  underruns = 0;
  /** Wall ms spent dry while playing after the start. */
  dryMs = 0;
  #dry = false;
  #next = 0; // index of the next fragment to deliver
  readonly #t0: number;
  #lastTick: number;

  constructor(
    private readonly clock: FakeClock,
    private readonly opts: SimOptions,
  ) {
    this.#t0 = clock.now;
    this.#lastTick = clock.now - (opts.tickMs ?? 250);
    const v = this.video;
    this.edge = new LiveEdgeController(v.asVideo(), {
      target: () => this.target,
      interval: () => this.cadence.interval,
      sinceAppend: () => this.cadence.sinceAppend(clock.now),
      remove: (start, end) => {
        this.removals.push([start, end]);
        const r = v.buffered.list[0];
        if (r && start <= r[0] && end > r[0]) r[0] = Math.min(end, r[1]);
      },
      play: () => {
        this.plays++;
        void v.play();
      },
      now: () => clock.now,
    });
  }

  get target(): number {
    const now = this.clock.now;
    return this.opts.target ?? this.auto.value(this.cadence.arrivals.headroom(now), this.cadence.interval, now);
  }

  get lag(): number {
    const r = this.video.buffered.list.at(-1);
    return r ? r[1] - this.video.currentTime : Number.NaN;
  }

  /** Wall time (ms) at which fragment `i` is delivered. */
  #dueAt(i: number): number {
    const trace = this.opts.trace;
    if (trace) return i < trace.length ? this.#t0 + trace[i]!.at : Number.POSITIVE_INFINITY;
    const burst = this.opts.burst ?? 0;
    const nominal = this.#t0 + Math.max(0, i - burst) * this.opts.interval * 1000;
    return nominal + (this.opts.delayMs?.(i) ?? 0);
  }

  #deliver(i: number): void {
    const f = this.opts.trace?.[i];
    const start = f ? f.start : (this.opts.firstStart ?? 100) + i * this.opts.interval;
    const end = f ? f.end : start + this.opts.interval;
    const now = this.clock.now;
    this.cadence.observe(start);
    if (Number.isFinite(end)) {
      const list = this.video.buffered.list;
      const last = list.at(-1);
      if (last && end <= last[1]) {
        // nothing new is playable (audio behind video)
      } else if (last && start <= last[1] + 1e-6) last[1] = end;
      else list.push([start, end]);
    }
    const caughtUp = !(this.#dueAt(i + 1) <= now);
    this.cadence.appended(now, this.video.buffered.list.at(-1)?.[1] ?? Number.NaN, caughtUp);
    this.edge.appended(now, caughtUp);
  }

  /** Advances the model by `ms` in 10 ms steps, ticking the controller every `tickMs`. */
  run(ms: number): void {
    const tickMs = this.opts.tickMs ?? 250;
    const until = this.clock.now + ms;
    while (this.clock.now < until) {
      const dt = 10;
      this.clock.now += dt;
      while (this.#dueAt(this.#next) <= this.clock.now) this.#deliver(this.#next++);
      this.#play(dt / 1000);
      this.fine.push([this.clock.now - this.#t0, this.lag]);
      if (this.clock.now - this.#lastTick >= tickMs) {
        this.#lastTick = this.clock.now;
        const v = this.video;
        const readyState = v.readyState;
        this.edge.tick(this.clock.now);
        this.samples.push({ at: this.clock.now - this.#t0, lag: this.lag, rate: v.playbackRate, paused: v.paused, readyState });
      }
    }
  }

  /** The playhead moves while data is ahead of it; at the end of a range it stalls. */
  #play(dt: number): void {
    const v = this.video;
    const t = v.currentTime;
    const range = v.buffered.list.find(([s, e]) => t >= s && t < e);
    const ahead = range ? range[1] - t : 0;
    v.readyState = ahead > 0.001 ? 4 : 2;
    const dry = !v.paused && ahead <= 0.001 && this.edge.started;
    if (dry && !this.#dry) {
      this.underruns++;
      this.auto.underrun(this.clock.now);
    }
    if (dry) this.dryMs += dt * 1000;
    this.#dry = dry;
    if (v.paused || v.seeking || !range) return;
    v.advance(Math.min(range[1], t + dt * v.playbackRate));
  }

  /** Tick samples taken at or after `fromMs` (relative to the start of the run). */
  since(fromMs: number): Sample[] {
    return this.samples.filter((s) => s.at >= fromMs);
  }

  /** Time-averaged latency from `fromMs` to `toMs` (relative to the start of the run). */
  meanLag(fromMs: number, toMs = Infinity): number {
    return mean(this.fine.filter(([at]) => at >= fromMs && at < toMs).map(([, lag]) => lag));
  }
}

/** Mean of a list of numbers. */
function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
