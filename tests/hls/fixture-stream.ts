import { createParser } from "../../src/container/index.ts";
import { DEFAULT_PARSER_OPTIONS, type FragmentEvent, type InitEvent } from "../../src/container/types.ts";
import type { TimedFragment } from "../../src/hls/part-builder.ts";
import { Stream } from "../../src/stream/stream.ts";
import { fixture } from "../helpers/fixtures.ts";

/** A committed fixture cut by Sluice's own parser: its init and fragments. */
function cutFixture(name: string): { init: InitEvent; fragments: FragmentEvent[] } {
  const parser = createParser(name.endsWith(".webm") ? "webm" : "fmp4", DEFAULT_PARSER_OPTIONS);
  const events = [...parser.push(fixture(name)), ...parser.end()];
  const init = events.find((e): e is InitEvent => e.type === "init")!;
  return { init, fragments: events.filter((e): e is FragmentEvent => e.type === "fragment") };
}

/** The fixture's fragments as the part builder sees them (video decode time, stated duration). */
export function timedFragments(name: string): TimedFragment[] {
  return cutFixture(name).fragments.map((f) => {
    const t: TimedFragment = { bytes: f.bytes, keyframe: f.keyframe, time: f.decodeTime / f.timescale };
    if (f.duration !== undefined) t.duration = f.duration / f.timescale;
    return t;
  });
}

/** A `Stream` the way a publisher session drives it, for feeding sinks. */
export function fixtureStream(name: string, streamName = "cam"): { stream: Stream; init: InitEvent; fragments: FragmentEvent[] } {
  return { stream: new Stream(streamName, 8 << 20), ...cutFixture(name) };
}
