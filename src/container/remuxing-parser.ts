/**
 * Parsers for sources that are not fMP4 or WebM: a demuxer turns their bytes into elementary frames
 * and the remuxer writes those as fMP4, so what comes out is the same init/fragment events the fMP4
 * parser emits (with `format` naming the source).
 */

import { createTsDemuxer } from "./mpegts/demuxer.ts";
import type { DemuxEvent } from "./remux/frame.ts";
import { createRemuxer, type Remuxer } from "./remux/remuxer.ts";
import type { ContainerParser, IngestFormat, ParserEvent, ParserOptions } from "./types.ts";

/** Demuxer events in, fMP4 init/fragment events out, tagged with the source format. */
export interface FrameRemuxer {
  push(events: readonly DemuxEvent[]): ParserEvent[];
  end(): ParserEvent[];
  readonly buffered: number;
  readonly remuxer: Remuxer;
}

/** A remuxer whose init events name `format` as their source (RTMP hands its frames to one directly). */
export function createFrameRemuxer(format: IngestFormat, options: ParserOptions): FrameRemuxer {
  const remuxer = createRemuxer({ fragment: options.remuxFragment ?? "frame", maxBufferedBytes: options.maxElementBytes });
  const tag = (events: ParserEvent[]) => {
    for (const ev of events) if (ev.type === "init") ev.format = format;
    return events;
  };
  return {
    remuxer,
    get buffered() {
      return remuxer.buffered;
    },
    push(events) {
      const out: ParserEvent[] = [];
      for (const ev of events) for (const e of remuxer.push(ev)) out.push(e);
      return tag(out);
    },
    end() {
      return tag(remuxer.end());
    },
  };
}

/** MPEG-TS (188-byte TS or 192-byte M2TS packets) in, fMP4 out. Arrival time is the wallclock at `push`. */
export function createMpegTsParser(options: ParserOptions): ContainerParser {
  const demuxer = createTsDemuxer({ maxBufferedBytes: options.maxElementBytes });
  const remux = createFrameRemuxer("mpegts", options);
  return {
    format: "mpegts",
    get buffered() {
      return demuxer.buffered + remux.buffered;
    },
    push(chunk) {
      return remux.push(demuxer.push(chunk, Date.now()));
    },
    end() {
      const tail = remux.push(demuxer.end());
      for (const ev of remux.end()) tail.push(ev);
      return tail;
    },
  };
}
