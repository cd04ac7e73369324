import { expect, test } from "bun:test";
import type { CachedFragment } from "../../src/stream/gop-cache.ts";
import { type StreamSink, teeSinks } from "../../src/stream/sink.ts";
import { Stream } from "../../src/stream/stream.ts";

/** A sink that records what it was told, and throws on fragments when asked to. */
function recorder(log: string[], name: string, throwOnFragment = false): StreamSink {
  return {
    started: (s) => log.push(`${name} started ${s.name}`),
    fragment: (_s, f) => {
      if (throwOnFragment) throw new Error(`${name} broke`);
      log.push(`${name} fragment ${f.seq}`);
    },
    ended: (s) => log.push(`${name} ended ${s.name}`),
    skipped: (s) => log.push(`${name} skipped ${s.name}`),
  };
}

const stream = new Stream("cam", 1024);
const frag: CachedFragment = { bytes: new Uint8Array(4), keyframe: true, seq: 7 };

test("every change goes to the fan-out first, then to each view in order", () => {
  const log: string[] = [];
  const tee = teeSinks(
    recorder(log, "fanout"),
    [
      { name: "hls", sink: recorder(log, "hls") },
      { name: "rec", sink: recorder(log, "rec") },
    ],
    () => {
      throw new Error("no view failed");
    },
  );
  tee.started(stream);
  tee.fragment(stream, frag);
  tee.skipped(stream);
  tee.ended(stream);
  expect(log).toEqual([
    "fanout started cam",
    "hls started cam",
    "rec started cam",
    "fanout fragment 7",
    "hls fragment 7",
    "rec fragment 7",
    "fanout skipped cam",
    "hls skipped cam",
    "rec skipped cam",
    "fanout ended cam",
    "hls ended cam",
    "rec ended cam",
  ]);
});

test("a view that throws is reported with its name and the stream; the fan-out and the other views still get the change", () => {
  const log: string[] = [];
  const failures: string[] = [];
  const tee = teeSinks(
    recorder(log, "fanout"),
    [
      { name: "hls", sink: recorder(log, "hls", true) },
      { name: "rec", sink: recorder(log, "rec") },
    ],
    (view, s, e) => failures.push(`${view} ${s.name} ${(e as Error).message}`),
  );
  expect(() => tee.fragment(stream, frag)).not.toThrow();
  expect(log).toEqual(["fanout fragment 7", "rec fragment 7"]);
  expect(failures).toEqual(["hls cam hls broke"]);
});

test("an exception of the fan-out itself reaches the caller (the publisher session handles it)", () => {
  const log: string[] = [];
  const tee = teeSinks(recorder(log, "fanout", true), [{ name: "hls", sink: recorder(log, "hls") }], () => {});
  expect(() => tee.fragment(stream, frag)).toThrow("fanout broke");
});

test("without views the fan-out itself is the sink", () => {
  const fanout = recorder([], "fanout");
  expect(teeSinks(fanout, [], () => {})).toBe(fanout);
});
