import { ParseError } from "../errors.ts";
import { AacTrack } from "./aac-track.ts";
import { OpusTrack } from "./opus-track.ts";
import type { Pmt } from "./psi.ts";
import { classifyStream, type StreamClass } from "./stream-types.ts";
import type { ProgramClock } from "./timeline.ts";
import type { ElementaryTrack, TsCounters } from "./track.ts";
import { VideoTrack } from "./video-track.ts";

/** The elementary streams of a program that the demuxer follows. */
export interface Selection {
  video?: { pid: number; cls: Extract<StreamClass, { kind: "video" }> };
  audio?: { pid: number; cls: Extract<StreamClass, { kind: "audio" }> };
  /** Streams left out, with why (unplayable codecs, extra video/audio streams), for logs. */
  skipped: string[];
  /** Compares selections: equal keys mean the same PIDs and codecs. */
  key: string;
}

/**
 * Picks the first playable video and first playable audio stream of a PMT. Throws
 * `ParseError("no-usable-track")` naming the stream types when neither exists.
 */
export function selectStreams(pmt: Pmt): Selection {
  const sel: Selection = { skipped: [], key: "" };
  const unplayable: string[] = [];
  for (const s of pmt.streams) {
    const cls = classifyStream(s);
    const pid = `PID 0x${s.pid.toString(16)}`;
    if (cls.kind === "video") {
      if (!sel.video) sel.video = { pid: s.pid, cls };
      else sel.skipped.push(`${pid}: a second video stream`);
    } else if (cls.kind === "audio") {
      // A sniffed private stream only stands in when no declared audio stream exists.
      const current = sel.audio?.cls;
      if (!current || (current.codec === "aac" && current.sniffed && !(cls.codec === "aac" && cls.sniffed))) {
        sel.audio = { pid: s.pid, cls };
      } else if (!(cls.codec === "aac" && cls.sniffed)) {
        sel.skipped.push(`${pid}: a second audio stream`);
      }
    } else if (cls.kind === "unplayable") {
      unplayable.push(cls.why);
      sel.skipped.push(`${pid}: ${cls.why}`);
    }
  }
  if (!sel.video && !sel.audio) {
    const why = unplayable.length > 0 ? unplayable.join("; ") : `program ${pmt.programNumber} has no audio or video stream`;
    throw new ParseError("no-usable-track", why);
  }
  // Only a sniffed stream and no video: nothing tells this is media at all.
  if (!sel.video && sel.audio?.cls.codec === "aac" && sel.audio.cls.sniffed) {
    throw new ParseError(
      "no-usable-track",
      unplayable.length > 0 ? unplayable.join("; ") : `program ${pmt.programNumber} has no audio or video stream`,
    );
  }
  const v = sel.video;
  const a = sel.audio;
  sel.key = `${v ? `${v.pid}:${v.cls.codec}` : "-"}|${a ? `${a.pid}:${a.cls.codec}:${a.cls.codec === "opus" ? a.cls.channelConfigCode : a.cls.sniffed ? "sniffed" : ""}` : "-"}`;
  return sel;
}

/** The track objects of a selection (video first), each with a fresh time line of `clock`. */
export function createTracks(sel: Selection, clock: ProgramClock, counters: TsCounters): ElementaryTrack[] {
  const tracks: ElementaryTrack[] = [];
  if (sel.video) tracks.push(new VideoTrack(sel.video.cls.codec, sel.video.pid, clock.timeline(), counters));
  if (sel.audio) {
    const { pid, cls } = sel.audio;
    tracks.push(
      cls.codec === "aac"
        ? new AacTrack(pid, clock.timeline(), counters, cls.sniffed)
        : new OpusTrack(pid, clock.timeline(), counters, cls.channelConfigCode),
    );
  }
  return tracks;
}
