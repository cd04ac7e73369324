/**
 * Sluice's own fMP4 parser reads the remuxer's bytes back into the very events the remuxer emitted:
 * the relay treats a remuxed stream exactly like an fMP4 publisher's.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createParser } from "../../../src/container/index.ts";
import type { RemuxerOptions } from "../../../src/container/remux/remuxer.ts";
import { DEFAULT_PARSER_OPTIONS, type ParserEvent } from "../../../src/container/types.ts";
import { cleanup, demuxEvents, framesOf, remux, SOURCES, type SourceName } from "./media.ts";
import { toMilliseconds } from "./samples.ts";

afterAll(cleanup);

const MODES: Array<[string, RemuxerOptions]> = [
  ["frame", { fragment: "frame" }],
  ["100ms", { fragment: { ms: 100 } }],
  ["1000ms", { fragment: { ms: 1000 } }],
];

/** What must agree: everything but the bytes' identity (compared separately). */
function summary(e: ParserEvent): Record<string, unknown> {
  if (e.type === "init") return { type: e.type, format: e.format, mime: e.mime, tracks: e.tracks, size: e.bytes.byteLength };
  const { bytes, ...rest } = e;
  return { ...rest, size: bytes.byteLength };
}

describe("the fMP4 parser reads remuxed streams back into the remuxer's events", () => {
  for (const name of Object.keys(SOURCES) as SourceName[]) {
    for (const [mode, options] of MODES) {
      for (const clock of ["source", "ms"] as const) {
        test(`${name}, ${mode} fragments, ${clock} timestamps`, () => {
          const extracted = clock === "ms" ? toMilliseconds(framesOf(name)) : framesOf(name);
          const out = remux(demuxEvents(extracted.tracks, extracted.frames), options);
          const parser = createParser("fmp4", DEFAULT_PARSER_OPTIONS);
          const parsed = [...parser.push(out.file), ...parser.end()];
          expect(parsed.map(summary)).toEqual(out.events.map(summary));
          for (let i = 0; i < parsed.length; i++) expect(parsed[i]!.bytes).toEqual(out.events[i]!.bytes);
          // Every fragment is independently meaningful: its prft names its own first sample, at its
          // presentation time (decode time + composition offset: B-frame sources have one).
          for (const f of out.fragments) {
            // (Negative offsets, trun version 1, put it before the decode time.)
            expect(Math.abs(f.prftMediaTime! - f.decodeTime) / f.timescale).toBeLessThan(0.5);
            expect(f.prftWallclockMs).toBeGreaterThan(1_600_000_000_000);
          }
        });
      }
    }
  }
});
