/**
 * The remuxer's output judged by ffprobe: frames taken out of ffmpeg-made fMP4 files (by the
 * test-only extractor), remuxed, and the init + fragments written to a file must demux and decode to
 * the same packets and frames as the source: same counts, keyframes and pts/dts within one tick.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createParser } from "../../../src/container/index.ts";
import type { RemuxerOptions } from "../../../src/container/remux/remuxer.ts";
import { DEFAULT_PARSER_OPTIONS, type InitEvent } from "../../../src/container/types.ts";
import {
  cleanup,
  demuxEvents,
  framesOf,
  type ProbePacket,
  probeFrames,
  probePackets,
  remux,
  SOURCES,
  type SourceName,
  source,
  writeTemp,
} from "./media.ts";

afterAll(cleanup);

const MODES: Array<[string, RemuxerOptions]> = [
  ["frame", { fragment: "frame" }],
  ["100ms", { fragment: { ms: 100 } }],
];

function byKind(packets: ProbePacket[], kind: string): ProbePacket[] {
  return packets.filter((p) => p.kind === kind).sort((a, b) => a.dts - b.dts);
}

describe("remuxed files demux and decode like their source (ffprobe)", () => {
  for (const name of Object.keys(SOURCES) as SourceName[]) {
    for (const [mode, options] of MODES) {
      test(`${name}, ${mode} fragments`, () => {
        const src = source(name);
        const { tracks, frames } = framesOf(name);
        const out = remux(demuxEvents(tracks, frames), options);
        expect(out.dropped).toBe(0);
        const path = writeTemp(`${name}-${mode}.mp4`, out.file);

        const before = probePackets(src.path);
        const after = probePackets(path);
        expect(after.streams.map((s) => s.kind)).toEqual(tracks.map((t) => t.kind));
        for (const stream of after.streams) {
          const a = byKind(before.packets, stream.kind);
          const b = byKind(after.packets, stream.kind);
          expect(b.length).toBe(a.length);
          expect(b.length).toBeGreaterThan(50);
          const tick = 1 / stream.timescale + 1e-9;
          const worst = Math.max(...a.map((p, i) => Math.max(Math.abs(p.pts - b[i]!.pts), Math.abs(p.dts - b[i]!.dts))));
          expect(worst).toBeLessThanOrEqual(tick);
          expect(b.map((p) => p.keyframe)).toEqual(a.map((p) => p.keyframe));
        }

        const decodedBefore = probeFrames(src.path);
        const decodedAfter = probeFrames(path);
        expect(decodedAfter.stderr).toBe(decodedBefore.stderr);
        for (const kind of ["video", "audio"]) {
          const a = decodedBefore.frames.filter((f) => f.kind === kind).sort((x, y) => x.pts - y.pts);
          const b = decodedAfter.frames.filter((f) => f.kind === kind).sort((x, y) => x.pts - y.pts);
          expect(b.length).toBe(a.length);
          expect(b.map((f) => f.keyframe)).toEqual(a.map((f) => f.keyframe));
          expect(b.map((f) => f.pts)).toEqual(a.map((f) => f.pts));
        }
      });
    }
  }
});

describe("codec strings come from the parser's own moov reader", () => {
  for (const name of Object.keys(SOURCES) as SourceName[]) {
    test(`${name}: the remuxer's init announces what ffmpeg's init does`, () => {
      const parsed = createParser("fmp4", DEFAULT_PARSER_OPTIONS).push(source(name).bytes)[0] as InitEvent;
      const { tracks, frames } = framesOf(name);
      const { init } = remux(demuxEvents(tracks, frames.slice(0, 1)), { fragment: "frame" });
      expect(init.mime).toBe(parsed.mime);
      // Same kinds, codecs, sizes and rates; ids follow the remuxer's numbering (video 1, audio 2).
      const strip = (t: InitEvent["tracks"][number]) => ({
        ...t,
        id: 0,
        codecId: t.codecId,
        channels: t.kind === "audio" ? t.channels : undefined,
      });
      expect(init.tracks.map(strip)).toEqual(parsed.tracks.map(strip));
    });
  }
});
