/**
 * Fakes of the *browser environment* the player's logic classes read: `TimeRanges`, the few fields
 * of an `HTMLVideoElement` they use, a `SourceBuffer` / `MediaSource` pair, and a clock. None of
 * them imitates player code; they stand in for what Bun does not have.
 */

import { afterAll, afterEach, beforeAll, beforeEach, spyOn } from "bun:test";

/** A mutable `TimeRanges`: `list` holds [start, end) pairs in order. */
class FakeRanges implements TimeRanges {
  constructor(public list: Array<[number, number]> = []) {}

  get length(): number {
    return this.list.length;
  }

  start(i: number): number {
    const r = this.list[i];
    if (!r) throw new DOMException(`index ${i} out of range`, "IndexSizeError");
    return r[0];
  }

  end(i: number): number {
    const r = this.list[i];
    if (!r) throw new DOMException(`index ${i} out of range`, "IndexSizeError");
    return r[1];
  }
}

/**
 * The fields of a video element that `LiveEdgeController`, `LatencyMeter` and `MseSink` read or
 * write. Writes to `currentTime` are seeks (recorded in `seeks`); playback moves the playhead
 * through `advance()`, which is not a seek. `play()` / `pause()` fire the element's events like a
 * browser does.
 */
export class FakeVideo extends EventTarget {
  buffered = new FakeRanges();
  paused = true;
  seeking = false;
  readyState = 4; // HAVE_ENOUGH_DATA
  muted = true;
  src = "";
  disableRemotePlayback = false;
  /** Every value assigned to `currentTime`. */
  readonly seeks: number[] = [];
  /** Every value assigned to `playbackRate`. */
  readonly rateWrites: number[] = [];
  loads = 0;
  #time = 0;
  #rate = 1;

  get currentTime(): number {
    return this.#time;
  }

  set currentTime(t: number) {
    this.seeks.push(t);
    this.#time = t;
  }

  get playbackRate(): number {
    return this.#rate;
  }

  set playbackRate(r: number) {
    this.rateWrites.push(r);
    this.#rate = r;
  }

  /** Playback (not a seek) moved the playhead to `t`. */
  advance(t: number): void {
    this.#time = t;
  }

  play(): Promise<void> {
    const was = this.paused;
    this.paused = false;
    if (was) this.dispatchEvent(new Event("play"));
    return Promise.resolve();
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.dispatchEvent(new Event("pause"));
  }

  removeAttribute(name: string): void {
    if (name === "src") this.src = "";
  }

  load(): void {
    this.loads++;
  }

  asVideo(): HTMLVideoElement {
    return this as unknown as HTMLVideoElement;
  }
}

/** A settable clock that also answers `performance.now()` while installed. */
export interface FakeClock {
  now: number;
}

/**
 * Installs a fake `performance.now()` for every test of the calling file (a fresh clock at
 * `startMs` per test) and returns it. Some code reads `performance.now()` itself instead of taking
 * `now` as a parameter.
 */
export function useFakeClock(startMs = 100_000): FakeClock {
  const clock: FakeClock = { now: startMs };
  let spy: ReturnType<typeof spyOn> | undefined;
  beforeEach(() => {
    clock.now = startMs;
    spy = spyOn(performance, "now").mockImplementation(() => clock.now);
  });
  afterEach(() => {
    spy?.mockRestore();
  });
  return clock;
}

const MEDIA_CONSTANTS = { HAVE_NOTHING: 0, HAVE_METADATA: 1, HAVE_CURRENT_DATA: 2, HAVE_FUTURE_DATA: 3, HAVE_ENOUGH_DATA: 4 };

/** `HTMLMediaElement.HAVE_*` for code that reads the constants off the global (Bun has no DOM). */
export function useMediaElementConstants(): void {
  const g = globalThis as Record<string, unknown>;
  let had = false;
  beforeAll(() => {
    had = "HTMLMediaElement" in g;
    if (!had) g.HTMLMediaElement = MEDIA_CONSTANTS;
  });
  afterAll(() => {
    if (!had) delete g.HTMLMediaElement;
  });
}

/** One call the fake SourceBuffer received. */
export type SbCall =
  | { call: "appendBuffer"; bytes: Uint8Array }
  | { call: "remove"; start: number; end: number }
  | { call: "changeType"; mime: string }
  | { call: "timestampOffset"; value: number };

/**
 * A SourceBuffer that behaves like the spec says for the parts `MseSink` uses: `appendBuffer` and
 * `remove` set `updating` until `finish()` fires `updateend`; both throw InvalidStateError while
 * `updating` (counted in `violations`), as does setting `timestampOffset` or calling `changeType`.
 * `quotaErrors` makes the next appends throw QuotaExceededError; `appendError` any other error.
 * A finished append extends `buffered` by `appendSeconds` at the end; a remove cuts the range.
 */
export class FakeSourceBuffer extends EventTarget {
  updating = false;
  buffered = new FakeRanges();
  readonly calls: SbCall[] = [];
  violations = 0;
  quotaErrors = 0;
  appendError: Error | undefined;
  appendSeconds = 0;
  /** False: a finished `remove` leaves `buffered` as it was (the browser freed too little). */
  removeFrees = true;
  #offset = 0;
  #pending: SbCall | undefined;

  constructor(readonly mime: string) {
    super();
  }

  get timestampOffset(): number {
    return this.#offset;
  }

  set timestampOffset(v: number) {
    this.#guard();
    this.calls.push({ call: "timestampOffset", value: v });
    this.#offset = v;
  }

  appendBuffer(bytes: Uint8Array): void {
    this.#guard();
    if (this.quotaErrors > 0) {
      this.quotaErrors--;
      throw new DOMException("The SourceBuffer is full", "QuotaExceededError");
    }
    if (this.appendError) throw this.appendError;
    this.#start({ call: "appendBuffer", bytes });
  }

  remove(start: number, end: number): void {
    this.#guard();
    this.#start({ call: "remove", start, end });
  }

  changeType(mime: string): void {
    this.#guard();
    this.calls.push({ call: "changeType", mime });
  }

  /** Completes the running operation: `updating` false, then `updateend`. */
  finish(): void {
    if (!this.updating) throw new Error("finish() without a running operation");
    const op = this.#pending;
    this.#pending = undefined;
    this.updating = false;
    if (op?.call === "appendBuffer" && this.appendSeconds > 0) {
      const last = this.buffered.list.at(-1);
      if (last) last[1] += this.appendSeconds;
      else this.buffered.list.push([this.#offset, this.#offset + this.appendSeconds]);
    }
    if (op?.call === "remove" && this.removeFrees) {
      this.buffered.list = this.buffered.list
        .map(([s, e]): [number, number] => [s >= op.start && s < op.end ? op.end : s, e])
        .filter(([s, e]) => e > s);
    }
    this.dispatchEvent(new Event("updateend"));
  }

  appends(): Uint8Array[] {
    return this.calls.flatMap((c) => (c.call === "appendBuffer" ? [c.bytes] : []));
  }

  #start(op: SbCall): void {
    this.calls.push(op);
    this.#pending = op;
    this.updating = true;
  }

  #guard(): void {
    if (this.updating) {
      this.violations++;
      throw new DOMException("The SourceBuffer is updating", "InvalidStateError");
    }
  }
}

/** A MediaSource whose `sourceopen` the test fires with `open()`. */
export class FakeMediaSource extends EventTarget {
  static instances: FakeMediaSource[] = [];
  static supported = (_mime: string): boolean => true;
  static isTypeSupported(mime: string): boolean {
    return FakeMediaSource.supported(mime);
  }

  readyState: "closed" | "open" | "ended" = "closed";
  /** ManagedMediaSource only. */
  streaming: boolean | undefined;
  readonly buffers: FakeSourceBuffer[] = [];
  addSourceBufferError: Error | undefined;

  constructor() {
    super();
    FakeMediaSource.instances.push(this);
  }

  addSourceBuffer(mime: string): FakeSourceBuffer {
    if (this.addSourceBufferError) throw this.addSourceBufferError;
    const sb = new FakeSourceBuffer(mime);
    this.buffers.push(sb);
    return sb;
  }

  open(): void {
    this.readyState = "open";
    this.dispatchEvent(new Event("sourceopen"));
  }
}

/**
 * Installs `FakeMediaSource` as `MediaSource` (or as `ManagedMediaSource` when `managed`) and a
 * fake `URL.createObjectURL` / `revokeObjectURL` for every test of the calling file.
 */
export function useFakeMediaSource(managed = false): { urls: { created: number; revoked: string[] } } {
  const g = globalThis as Record<string, unknown>;
  const name = managed ? "ManagedMediaSource" : "MediaSource";
  const urls = { created: 0, revoked: [] as string[] };
  const spies: Array<{ mockRestore(): void }> = [];
  beforeEach(() => {
    FakeMediaSource.instances = [];
    FakeMediaSource.supported = () => true;
    g[name] = FakeMediaSource;
    urls.created = 0;
    urls.revoked = [];
    spies.push(spyOn(URL, "createObjectURL").mockImplementation(() => `blob:fake/${++urls.created}`));
    spies.push(spyOn(URL, "revokeObjectURL").mockImplementation((u: string) => void urls.revoked.push(u)));
  });
  afterEach(() => {
    delete g[name];
    for (const s of spies.splice(0)) s.mockRestore();
  });
  return { urls };
}
