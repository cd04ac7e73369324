/**
 * MseSink: executes the OpQueue against a SourceBuffer, one operation at a time. The MediaSource /
 * SourceBuffer pair is the browser's (faked in fakes.ts, which throws InvalidStateError and counts a
 * violation whenever the SourceBuffer is touched while `updating`, as a browser would).
 * Assertions use the fake SourceBuffer's recorded calls and the sink's events, never log text.
 */

import { describe, expect, test } from "bun:test";
import { isTypeSupported, MseSink, mediaSourceClass, type SinkEvents } from "../../static/player/mse-sink.ts";
import { type InitOp, type MediaOp, OpQueue } from "../../static/player/op-queue.ts";
import { FakeMediaSource, type FakeSourceBuffer, FakeVideo, useFakeMediaSource } from "./fakes.ts";

const MIME = 'video/mp4; codecs="avc1.64001f,mp4a.40.2"';

function media(tag: number, start: number, sync = false): MediaOp {
  return { kind: "media", bytes: new Uint8Array([tag]), info: { keyframe: sync, syncPoint: sync, start } };
}
function init(tag: number, mode: InitOp["mode"] = "first", mime = MIME): InitOp {
  return { kind: "init", bytes: new Uint8Array([tag, 0xee]), mime, mode };
}

interface Recorded {
  appended: Array<{ op: MediaOp; offset: number }>;
  errors: string[];
  quotaResyncs: number;
  streaming: boolean[];
}

function recorder(): { events: SinkEvents; got: Recorded } {
  const got: Recorded = { appended: [], errors: [], quotaResyncs: 0, streaming: [] };
  return {
    got,
    events: {
      appended: (op, offset) => void got.appended.push({ op, offset }),
      error: (m) => void got.errors.push(m),
      quotaResync: () => void got.quotaResyncs++,
      streaming: (a) => void got.streaming.push(a),
    },
  };
}

/** A sink on an opened MediaSource whose first init segment was appended and finished. */
function openSink(opts: { firstInit?: boolean } = {}) {
  const video = new FakeVideo();
  const queue = new OpQueue();
  const { events, got } = recorder();
  if (opts.firstInit !== false) queue.push(init(0xa0));
  const sink = new MseSink(video.asVideo(), queue, events);
  const ms = FakeMediaSource.instances.at(-1)!;
  ms.open();
  const sb = ms.buffers[0]!;
  if (opts.firstInit !== false) sb.finish();
  sb.calls.length = 0;
  return { video, queue, sink, ms, sb, got };
}

/** Finishes operations until the SourceBuffer is idle (at most `max`). */
function settle(sb: FakeSourceBuffer, max = 100): number {
  let n = 0;
  while (sb.updating && n < max) {
    sb.finish();
    n++;
  }
  return n;
}

describe("MseSink with MediaSource", () => {
  const { urls } = useFakeMediaSource();

  test("attaches a MediaSource to the video and creates the SourceBuffer for the queued init's MIME type on sourceopen", () => {
    const video = new FakeVideo();
    const queue = new OpQueue();
    queue.push(init(1));
    const { events, got } = recorder();
    const sink = new MseSink(video.asVideo(), queue, events);
    expect(sink.managed).toBe(false);
    expect(video.src).toBe("blob:fake/1");
    expect(sink.ready).toBe(false);
    sink.pump(); // before sourceopen: nothing to append to
    const ms = FakeMediaSource.instances[0]!;
    expect(ms.buffers).toHaveLength(0);
    ms.open();
    expect(sink.ready).toBe(true);
    expect(urls.revoked).toEqual(["blob:fake/1"]);
    const sb = ms.buffers[0]!;
    expect(sb.mime).toBe(MIME);
    expect(sb.appends()).toEqual([init(1).bytes]); // sourceopen pumps the queued init
    expect(got.errors).toEqual([]);
  });

  test("attaches the MediaSource before the type is known; the SourceBuffer follows the first init, whichever comes last", () => {
    const video = new FakeVideo();
    const queue = new OpQueue();
    const { events, got } = recorder();
    const sink = new MseSink(video.asVideo(), queue, events);
    expect(video.src).toBe("blob:fake/1");
    expect(sink.fresh).toBe(true);
    const ms = FakeMediaSource.instances[0]!;
    ms.open(); // the source opens while nothing is known about the stream
    expect(ms.buffers).toHaveLength(0);
    expect(sink.ready).toBe(false);
    sink.pump();
    expect(ms.buffers).toHaveLength(0);

    queue.push(init(7, "first", 'video/webm; codecs="vp8,opus"'));
    queue.push(media(8, 0, true));
    sink.pump();
    expect(ms.buffers.map((b) => b.mime)).toEqual(['video/webm; codecs="vp8,opus"']);
    expect(sink.fresh).toBe(false);
    const sb = ms.buffers[0]!;
    expect(sb.appends()).toEqual([init(7).bytes]);
    settle(sb);
    expect(sb.appends().map((b) => b[0])).toEqual([7, 8]);
    expect(got.errors).toEqual([]);
  });

  test("a sink whose MediaSource could not take the type is not fresh any more", () => {
    const queue = new OpQueue();
    const { events, got } = recorder();
    const sink = new MseSink(new FakeVideo().asVideo(), queue, events);
    const ms = FakeMediaSource.instances[0]!;
    ms.addSourceBufferError = new DOMException("unsupported", "NotSupportedError");
    ms.open();
    queue.push(init(1));
    sink.pump();
    expect(got.errors).toHaveLength(1);
    expect(sink.fresh).toBe(false);
    sink.pump(); // no second attempt, no second error
    expect(got.errors).toHaveLength(1);
  });

  test("executes one operation at a time: pumping while the SourceBuffer is updating appends nothing", () => {
    const { queue, sink, sb, got } = openSink();
    for (let i = 0; i < 5; i++) queue.push(media(i, i, i === 0));
    sink.pump();
    sink.pump();
    sink.pump();
    expect(sb.appends()).toHaveLength(1);
    expect(sink.busy).toBe(true);
    expect(settle(sb)).toBe(5); // each updateend pumps the next
    expect(sb.appends().map((b) => b[0])).toEqual([0, 1, 2, 3, 4]);
    expect(got.appended.map((a) => a.op.info.start)).toEqual([0, 1, 2, 3, 4]);
    expect(sb.violations).toBe(0);
    expect(sink.busy).toBe(false);
  });

  test("pushing and pumping at every step while appends complete never touches an updating SourceBuffer", () => {
    const { queue, sink, sb, got } = openSink();
    let pushed = 0;
    for (let step = 0; step < 200; step++) {
      if (step % 3 !== 2) {
        queue.push(media(pushed % 256, pushed, pushed % 10 === 0));
        pushed++;
      }
      if (step % 17 === 0) queue.push({ kind: "remove", start: 0, end: 1 });
      sink.pump();
      if (step % 2 === 0 && sb.updating) sb.finish();
    }
    settle(sb, 1000);
    expect(sb.violations).toBe(0);
    expect(got.appended.map((a) => a.op.info.start)).toEqual([...Array(pushed).keys()]);
    expect(queue.length).toBe(0);
  });

  test("a media fragment's appended event carries the SourceBuffer's timestampOffset", () => {
    const { queue, sink, sb, got } = openSink();
    sb.timestampOffset = 12.5;
    queue.push(media(1, 3, true));
    sink.pump();
    sb.finish();
    expect(got.appended).toEqual([{ op: media(1, 3, true), offset: 12.5 }]);
  });

  test("a removal is clamped to what is buffered", () => {
    const { queue, sink, sb } = openSink();
    sb.buffered.list = [[10, 50]];
    queue.push({ kind: "remove", start: 0, end: 30 });
    sink.pump();
    expect(sb.calls).toEqual([{ call: "remove", start: 10, end: 30 }]);
    sb.finish();
    expect(sb.buffered.list).toEqual([[30, 50]]);
  });

  test("a removal of less than 0.1 s of buffered media, or of nothing buffered, is skipped and the next operation runs", () => {
    const { queue, sink, sb } = openSink();
    queue.push({ kind: "remove", start: 0, end: 30 }); // nothing buffered
    sb.buffered.list = [];
    sink.pump();
    expect(sb.calls).toEqual([]);
    sb.buffered.list = [[10, 50]];
    queue.push({ kind: "remove", start: 0, end: 10.05 });
    queue.push(media(7, 40, true));
    sink.pump();
    expect(sb.calls.map((c) => c.call)).toEqual(["appendBuffer"]);
    expect(queue.length).toBe(0);
  });

  test("a continuing init segment waits for the new stream's first fragment, then places it at the buffered end", () => {
    const { queue, sink, sb, got } = openSink();
    sb.buffered.list = [[0, 20]];
    queue.push(init(2, "continue"));
    sink.pump();
    expect(sb.calls).toEqual([]); // nothing to align to yet
    expect(got.errors).toEqual([]);
    queue.push(media(3, 1.5, true));
    sink.pump();
    expect(sb.calls).toEqual([
      { call: "timestampOffset", value: 20 - 1.5 },
      { call: "appendBuffer", bytes: init(2).bytes },
    ]);
    sb.finish();
    expect(sb.appends().at(-1)).toEqual(media(3, 1.5).bytes);
    sb.finish();
    expect(got.appended[0]!.offset).toBe(18.5);
  });

  test("with nothing buffered the continuation offset places the new stream at currentTime", () => {
    const { video, queue, sink, sb } = openSink();
    video.advance(7);
    queue.push(init(2, "continue"));
    queue.push(media(3, 2, true));
    sink.pump();
    expect(sb.calls[0]).toEqual({ call: "timestampOffset", value: 5 });
  });

  test("a changeType init calls changeType with the new MIME type before the offset and the append", () => {
    const { queue, sink, sb } = openSink();
    sb.buffered.list = [[0, 10]];
    const webm = 'video/webm; codecs="vp8,opus"';
    queue.push(init(4, "changeType", webm));
    queue.push(media(5, 0, true));
    sink.pump();
    expect(sb.calls.map((c) => c.call)).toEqual(["changeType", "timestampOffset", "appendBuffer"]);
    expect(sb.calls[0]).toEqual({ call: "changeType", mime: webm });
    expect(sb.calls[1]).toEqual({ call: "timestampOffset", value: 10 });
  });

  test("a resumed stream whose timestamps carry on is not re-initialised: the init is skipped and the offset kept", () => {
    const { queue, sink, sb, got } = openSink();
    sb.timestampOffset = 3;
    sb.calls.length = 0;
    queue.push(media(1, 40, true));
    sink.pump();
    sb.finish(); // the last appended fragment started at 40
    queue.push(init(9, "resume"));
    queue.push(media(2, 38)); // a resend of the GOP cache: a little before the last one
    sink.pump();
    expect(sb.calls.map((c) => c.call)).toEqual(["appendBuffer", "appendBuffer"]);
    expect(sb.appends().at(-1)).toEqual(media(2, 38).bytes);
    expect(sb.timestampOffset).toBe(3);
    sb.finish();
    expect(got.appended.map((a) => a.offset)).toEqual([3, 3]);
  });

  test("a resumed stream that starts over near 0 is continued at the buffered end like a new stream", () => {
    const { queue, sink, sb } = openSink();
    sb.buffered.list = [[0, 41]];
    queue.push(media(1, 40, true));
    sink.pump();
    sb.finish();
    queue.push(init(9, "resume"));
    queue.push(media(2, 0.2, true));
    sink.pump();
    expect(sb.calls.slice(1)).toEqual([
      { call: "timestampOffset", value: 41 - 0.2 },
      { call: "appendBuffer", bytes: init(9).bytes },
    ]);
  });

  test("a resumed stream more than 60 s ahead of the last fragment is not a carry-on: it is continued at the buffered end", () => {
    const { queue, sink, sb } = openSink();
    sb.buffered.list = [[0, 41]];
    queue.push(media(1, 40, true));
    sink.pump();
    sb.finish();
    queue.push(init(9, "resume"));
    queue.push(media(2, 100.5, true));
    sink.pump();
    expect(sb.calls.slice(1)).toEqual([
      { call: "timestampOffset", value: 41 - 100.5 },
      { call: "appendBuffer", bytes: init(9).bytes },
    ]);
  });

  test("QuotaExceededError: the fragment is put back, media older than currentTime − 1 s is removed and the append retried", () => {
    const { video, queue, sink, sb, got } = openSink();
    sb.buffered.list = [[0, 30]];
    video.advance(20);
    sb.quotaErrors = 1;
    const frag = media(1, 29, true);
    queue.push(frag);
    sink.pump();
    expect(sb.calls).toEqual([{ call: "remove", start: 0, end: 19 }]);
    expect(queue.peek()).toBe(frag); // back at the head
    sb.finish(); // the removal ends: the retry follows
    expect(sb.calls.at(-1)).toEqual({ call: "appendBuffer", bytes: frag.bytes });
    sb.finish();
    expect(got.appended.map((a) => a.op)).toEqual([frag]);
    expect(got.errors).toEqual([]);
    expect(got.quotaResyncs).toBe(0);
    expect(sb.violations).toBe(0);
  });

  test("QuotaExceededError with less than 0.5 s to free: queued media is dropped, the queue resyncs and quotaResync fires", () => {
    const { video, queue, sink, sb, got } = openSink();
    sb.buffered.list = [[10, 12]];
    video.advance(11.4); // 11.4 − 1 − 10 = 0.4 s removable
    sb.quotaErrors = 1;
    queue.push(media(1, 11, true));
    queue.push(media(2, 12));
    sink.pump();
    expect(got.quotaResyncs).toBe(1);
    expect(sb.calls).toEqual([]);
    expect(queue.length).toBe(0);
    expect(queue.dropped).toBe(2);
    expect(queue.awaitingSync).toBe(true);
    expect(got.errors).toEqual([]);
  });

  test("three QuotaExceededErrors in a row report an error; a successful media append resets the count", () => {
    const { video, queue, sink, sb, got } = openSink();
    video.advance(90);
    /** Ends the running removal; the browser freed too little: the buffer still starts at 0. */
    const removalFreedNothing = (): void => {
      expect(sb.calls.at(-1)?.call).toBe("remove");
      sb.finish();
    };
    sb.removeFrees = false;
    sb.buffered.list = [[0, 100]];
    queue.push(media(1, 95, true));
    sb.quotaErrors = 2;
    sink.pump(); // quota 1 → remove
    removalFreedNothing(); // retry: quota 2 → remove
    removalFreedNothing(); // retry: appended
    sb.finish();
    expect(got.appended).toHaveLength(1);
    expect(got.errors).toEqual([]);

    sb.quotaErrors = 3;
    queue.push(media(2, 96));
    sink.pump(); // quota 1 (count was reset by the append)
    removalFreedNothing(); // quota 2
    expect(got.errors).toEqual([]);
    removalFreedNothing(); // quota 3
    expect(got.errors).toHaveLength(1);
    expect(sb.calls.filter((c) => c.call === "remove")).toHaveLength(4);
  });

  test("a second QuotaExceededError right after a removal freed everything behind the playhead resyncs the queue", () => {
    const { video, queue, sink, sb, got } = openSink();
    video.advance(90);
    sb.buffered.list = [[0, 100]];
    queue.push(media(1, 95, true));
    queue.push(media(2, 96));
    sb.quotaErrors = 2;
    sink.pump();
    sb.finish(); // [0, 89) removed: buffered is [89, 100], nothing more to free
    expect(sb.buffered.list).toEqual([[89, 100]]);
    expect(got.quotaResyncs).toBe(1);
    expect(queue.length).toBe(0);
    expect(queue.awaitingSync).toBe(true);
    expect(got.errors).toEqual([]);
  });

  test("an append that throws anything but QuotaExceededError reports an error", () => {
    const { queue, sink, sb, got } = openSink();
    sb.appendError = new TypeError("detached buffer");
    queue.push(media(1, 0, true));
    sink.pump();
    expect(got.errors).toHaveLength(1);
    expect(got.quotaResyncs).toBe(0);
  });

  test("a decode error on the SourceBuffer and a failing SourceBuffer call report errors", () => {
    const a = openSink();
    a.sb.dispatchEvent(new Event("error"));
    expect(a.got.errors).toHaveLength(1);

    const b = openSink();
    b.sb.changeType = () => {
      throw new DOMException("nope", "NotSupportedError");
    };
    b.queue.push(init(2, "changeType"));
    b.queue.push(media(3, 0, true));
    b.sink.pump();
    expect(b.got.errors).toHaveLength(1);
    expect(b.sb.appends()).toHaveLength(0);
  });

  test("a requested trim lowers timestampOffset right before the next keyframe fragment, once", () => {
    const { video, queue, sink, sb } = openSink();
    sb.buffered.list = [[0, 10]];
    video.advance(9.5); // 0.5 s buffered ahead
    sink.trimAtNextKeyframe(0.1);
    queue.push(media(1, 0));
    queue.push(media(2, 1, true));
    queue.push(media(3, 2, true));
    sink.pump();
    settle(sb);
    expect(sb.calls.map((c) => c.call)).toEqual(["appendBuffer", "timestampOffset", "appendBuffer", "appendBuffer"]);
    expect(sb.timestampOffset).toBeCloseTo(-0.1, 10);
    expect(sink.trims).toBe(1);
  });

  test("a trim never leaves less than 0.05 s ahead of the playhead; too small a cut or 0 does nothing", () => {
    const { video, queue, sink, sb } = openSink();
    sb.buffered.list = [[0, 10]];
    video.advance(9.8); // 0.2 s ahead: at most 0.15 s may go
    sink.trimAtNextKeyframe(0.5);
    queue.push(media(1, 0, true));
    sink.pump();
    settle(sb);
    expect(sb.timestampOffset).toBeCloseTo(-0.15, 10);
    video.advance(9.945); // 0.055 s ahead: a 0.005 s cut is not worth it
    sink.trimAtNextKeyframe(0.5);
    queue.push(media(2, 1, true));
    sink.pump();
    settle(sb);
    expect(sb.timestampOffset).toBeCloseTo(-0.15, 10);
    video.advance(9); // 1 s ahead, but the request is called off
    sink.trimAtNextKeyframe(0.3);
    sink.trimAtNextKeyframe(0);
    queue.push(media(3, 2, true));
    sink.pump();
    settle(sb);
    expect(sb.timestampOffset).toBeCloseTo(-0.15, 10);
    expect(sink.trims).toBe(1);
  });

  test("a MIME type the MediaSource refuses reports an error on sourceopen", () => {
    const video = new FakeVideo();
    const { events, got } = recorder();
    const queue = new OpQueue();
    queue.push(init(1));
    const sink = new MseSink(video.asVideo(), queue, events);
    const ms = FakeMediaSource.instances[0]!;
    ms.addSourceBufferError = new DOMException("unsupported", "NotSupportedError");
    ms.open();
    expect(got.errors).toHaveLength(1);
    expect(sink.ready).toBe(false);
  });

  test("nothing runs unless the MediaSource is open", () => {
    const { ms, queue, sink, sb } = openSink();
    ms.readyState = "ended";
    queue.push(media(1, 0, true));
    sink.pump();
    expect(sb.calls).toEqual([]);
  });

  test("destroy detaches from the video, and later updateend or error events do nothing", () => {
    const { video, queue, sink, sb, got } = openSink();
    queue.push(media(1, 0, true));
    queue.push(media(2, 1));
    sink.pump();
    sink.destroy();
    sink.destroy(); // idempotent
    expect(video.src).toBe("");
    expect(video.loads).toBe(1);
    sb.finish();
    sb.dispatchEvent(new Event("error"));
    sink.pump();
    expect(sb.appends()).toHaveLength(1);
    expect(got.appended).toHaveLength(0);
    expect(got.errors).toEqual([]);
  });
});

describe("MseSink with ManagedMediaSource", () => {
  useFakeMediaSource(true);

  test("is managed, and appends only between startstreaming and endstreaming while removals run regardless", () => {
    const video = new FakeVideo();
    const queue = new OpQueue();
    const { events, got } = recorder();
    queue.push(init(1));
    const sink = new MseSink(video.asVideo(), queue, events);
    expect(sink.managed).toBe(true);
    expect(video.disableRemotePlayback).toBe(true);
    expect(sink.streaming).toBe(false); // the fake's `streaming` is undefined: not asked for data yet
    const ms = FakeMediaSource.instances[0]!;
    ms.open();
    const sb = ms.buffers[0]!;
    expect(sb.calls).toEqual([]);

    ms.dispatchEvent(new Event("startstreaming"));
    expect(got.streaming).toEqual([true]);
    expect(sb.appends()).toHaveLength(1);
    sb.finish();

    ms.dispatchEvent(new Event("endstreaming"));
    expect(sink.streaming).toBe(false);
    sb.buffered.list = [[0, 10]];
    queue.push({ kind: "remove", start: 0, end: 5 });
    queue.push(media(2, 0, true));
    sink.pump();
    expect(sb.calls.map((c) => c.call)).toEqual(["appendBuffer", "remove"]);
    sb.finish();
    expect(queue.length).toBe(1); // the fragment waits

    ms.dispatchEvent(new Event("startstreaming"));
    expect(sb.calls.map((c) => c.call)).toEqual(["appendBuffer", "remove", "appendBuffer"]);
    expect(got.streaming).toEqual([true, false, true]);
  });
});

describe("MSE detection", () => {
  test("without MediaSource or ManagedMediaSource there is no MSE and no MIME type is supported", () => {
    expect(mediaSourceClass()).toBeUndefined();
    expect(isTypeSupported(MIME)).toBe(false);
    const { events } = recorder();
    expect(() => new MseSink(new FakeVideo().asVideo(), new OpQueue(), events)).toThrow();
  });
});

describe("MSE detection with MediaSource", () => {
  useFakeMediaSource();

  test("isTypeSupported asks the available implementation", () => {
    FakeMediaSource.supported = (m) => m.startsWith("video/mp4");
    expect(mediaSourceClass()?.managed).toBe(false);
    expect(isTypeSupported(MIME)).toBe(true);
    expect(isTypeSupported('video/webm; codecs="vp8"')).toBe(false);
  });
});
