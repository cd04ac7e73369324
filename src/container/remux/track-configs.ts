import { equalBytes } from "../bytes.ts";
import { ParseError } from "../errors.ts";
import type { AudioTrackConfig, TrackConfig, VideoTrackConfig } from "./frame.ts";

const VIDEO_CODECS = new Set(["avc", "hevc", "av1", "vp9"]);
const AUDIO_CODECS = new Set(["aac", "opus"]);
const U16_MAX = 0xffff;
const U32_MAX = 0xffff_ffff;

/** The tracks of one init segment, video first. */
export interface TrackSet {
  video: VideoTrackConfig | undefined;
  audio: AudioTrackConfig | undefined;
}

/**
 * Checks a demuxer's `tracks` event and orders it. Throws `no-usable-track` for an empty list,
 * `unknown-codec` for a codec the writer cannot put in a sample entry, `malformed` for two tracks of
 * one kind or a field that cannot be written (timescale/sample rate not an integer in 1..2^32-1,
 * width/height/channels outside 16 bits, a configuration that is not bytes), `too-large` for a
 * configuration record over `maxBytes`.
 */
export function checkTracks(tracks: readonly TrackConfig[], maxBytes: number): TrackSet {
  if (!Array.isArray(tracks) || tracks.length === 0) throw new ParseError("no-usable-track", "a tracks event without any track");
  const set: TrackSet = { video: undefined, audio: undefined };
  for (const t of tracks) {
    if (t?.kind === "video") {
      if (set.video) throw new ParseError("malformed", "more than one video track");
      if (!VIDEO_CODECS.has(t.codec)) throw new ParseError("unknown-codec", `video codec ${String(t.codec)} cannot be remuxed`);
      bytesField(t.record, "video codec record", maxBytes);
      intField(t.width, 0, U16_MAX, "video width");
      intField(t.height, 0, U16_MAX, "video height");
      intField(t.timescale, 1, U32_MAX, "video timescale");
      set.video = t;
    } else if (t?.kind === "audio") {
      if (set.audio) throw new ParseError("malformed", "more than one audio track");
      if (!AUDIO_CODECS.has(t.codec)) throw new ParseError("unknown-codec", `audio codec ${String(t.codec)} cannot be remuxed`);
      bytesField(t.config, "audio codec config", maxBytes);
      intField(t.sampleRate, 1, U32_MAX, "audio sample rate");
      intField(t.channels, 1, U16_MAX, "audio channels");
      intField(t.timescale, 1, U32_MAX, "audio timescale");
      set.audio = t;
    } else {
      throw new ParseError("malformed", `a track of kind ${String((t as { kind?: unknown } | undefined)?.kind)}`);
    }
  }
  return set;
}

function intField(v: unknown, min: number, max: number, what: string): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new ParseError("malformed", `${what} ${String(v)} is not an integer in ${min}..${max}`);
}

function bytesField(v: unknown, what: string, maxBytes: number): void {
  if (!(v instanceof Uint8Array)) throw new ParseError("malformed", `${what} is not bytes`);
  if (v.byteLength > maxBytes) throw new ParseError("too-large", `${what} of ${v.byteLength} bytes, over the ${maxBytes}-byte limit`);
}

/** Whether two track sets would produce the same init segment. */
export function sameTracks(a: TrackSet, b: TrackSet): boolean {
  return sameVideo(a.video, b.video) && sameAudio(a.audio, b.audio);
}

function sameVideo(a: VideoTrackConfig | undefined, b: VideoTrackConfig | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.codec === b.codec && a.width === b.width && a.height === b.height && a.timescale === b.timescale && equalBytes(a.record, b.record)
  );
}

function sameAudio(a: AudioTrackConfig | undefined, b: AudioTrackConfig | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.codec === b.codec &&
    a.sampleRate === b.sampleRate &&
    a.channels === b.channels &&
    a.timescale === b.timescale &&
    equalBytes(a.config, b.config)
  );
}
