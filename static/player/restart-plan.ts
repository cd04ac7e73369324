/**
 * What to do with the current SourceBuffer when a new `stream` message arrives (publisher restart,
 * or a reconnect that resends stream + init + GOP).
 */

import type { ContainerFormat } from "../../src/container/types.ts";

/** The identity of a stream as far as a SourceBuffer cares. */
export interface StreamShape {
  format: ContainerFormat;
  mime: string;
}

/**
 * - `continue`: same container and codec families → new init with timestampOffset continuation.
 * - `changeType`: other container or codec family, same track kinds, `changeType` available.
 * - `recreate`: anything else (track kinds differ, or no `changeType`) → a new MediaSource.
 */
export type RestartPlan = "continue" | "changeType" | "recreate";

export function planRestart(previous: StreamShape, next: StreamShape, canChangeType: boolean): RestartPlan {
  const a = codecs(previous.mime);
  const b = codecs(next.mime);
  // MSE requires every init segment to have the same number of audio and video tracks as the first.
  if (kinds(a) !== kinds(b)) return "recreate";
  if (previous.format === next.format && families(a) === families(b)) return "continue";
  return canChangeType ? "changeType" : "recreate";
}

/** The codec strings of a MIME type's `codecs` parameter. */
export function codecs(mime: string): string[] {
  const m = /codecs\s*=\s*"?([^";]*)"?/i.exec(mime);
  return m?.[1]
    ? m[1]
        .split(",")
        .map((c) => c.trim().toLowerCase())
        .filter(Boolean)
    : [];
}

/** Codec family: the sample-entry / codec name with profile details dropped (avc1 and avc3 alike). */
export function family(codec: string): string {
  const name = codec.split(".")[0] ?? codec;
  return FAMILY_ALIASES.get(name) ?? name;
}

/** A Map: codec names come from the publisher's stream and must not find inherited object properties. */
const FAMILY_ALIASES: ReadonlyMap<string, string> = new Map([
  ["avc1", "avc"],
  ["avc3", "avc"],
  ["hvc1", "hevc"],
  ["hev1", "hevc"],
  ["vp09", "vp9"],
  ["vp9", "vp9"],
  ["av01", "av1"],
  ["dvh1", "dv"],
  ["dvhe", "dv"],
]);

const AUDIO_FAMILIES = new Set(["mp4a", "opus", "vorbis", "flac", "ac-3", "ec-3", "alac", "mp3", "mp4a"]);

function families(list: string[]): string {
  return list.map(family).sort().join(",");
}

/** "a<number of audio codecs>v<number of others>". */
function kinds(list: string[]): string {
  const audio = list.filter((c) => AUDIO_FAMILIES.has(family(c))).length;
  return `a${audio}v${list.length - audio}`;
}
