import { ParseError } from "./errors.ts";
import type { ContainerFormat, TrackInfo } from "./types.ts";

/**
 * The full MSE type string for an init segment's tracks (RFC 6381 `codecs` parameter):
 * `video/mp4; codecs="avc1.64001E,mp4a.40.2"`; audio-only streams get `audio/...`.
 * Tracks that are neither video nor audio are left out. Throws `no-usable-track` when nothing is left
 * and `unknown-codec` when a media track's codec string could not be built.
 */
export function buildMime(format: ContainerFormat, tracks: TrackInfo[]): string {
  const media = tracks.filter((t) => t.kind === "video" || t.kind === "audio");
  if (media.length === 0) throw new ParseError("no-usable-track", "the init segment has no video or audio track");
  const unknown = media.find((t) => t.codec === "");
  if (unknown) throw new ParseError("unknown-codec", `track ${unknown.id} (${unknown.codecId || "no codec id"}) has no codec string`);
  // Video first: some MSE implementations care only that all are present, but humans read it this way.
  const ordered = [...media.filter((t) => t.kind === "video"), ...media.filter((t) => t.kind === "audio")];
  const top = ordered[0]!.kind === "video" ? "video" : "audio";
  const sub = format === "fmp4" ? "mp4" : "webm";
  return `${top}/${sub}; codecs="${ordered.map((t) => t.codec).join(",")}"`;
}
