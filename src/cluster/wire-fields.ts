import { type IngestFormat, isIngestFormat, type TrackInfo } from "../container/types.ts";

/**
 * Field rules of what other nodes send over Redis (bus messages, init keys): every value is checked
 * for its type and bounds before a node uses it, and the objects a node keeps are rebuilt from the
 * known fields only (unknown fields are dropped, so nothing from Redis becomes a plain-object key of
 * ours). Pure functions, no I/O. The publishing side normalizes what it sends with the same rules
 * (`wireTracks`, `wireError`), so a stream a node accepted locally is never refused by its followers
 * for a field its own parser let through.
 */

/** Most tracks in a stream description. */
const MAX_TRACKS = 64;
/** Longest MIME type string. */
export const MAX_MIME = 1024;
/** Longest codec string or codec id. */
const MAX_CODEC = 256;
/** Longest `ended` reason (a short kebab-case word) and message. */
const MAX_REASON = 64;
const MAX_MESSAGE = 1024;

const CONTROL = /\p{Cc}/u;
const isText = (v: unknown, min: number, max: number): v is string =>
  typeof v === "string" && v.length >= min && v.length <= max && !CONTROL.test(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const nonNegative = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
const REASON = new RegExp(`^[\\x21-\\x7e]{1,${MAX_REASON}}$`);
const KINDS: ReadonlySet<unknown> = new Set(["video", "audio", "other"]);

/** A node id: 1-255 characters of printable ASCII other than the space. */
export const isNodeId = (s: unknown): s is string => typeof s === "string" && /^[\x21-\x7e]{1,255}$/.test(s);

/** Bytes that make a node id (checked before decoding them). */
export function isNodeIdBytes(b: Uint8Array): boolean {
  if (b.byteLength < 1 || b.byteLength > 255) return false;
  for (const c of b) if (c < 0x21 || c > 0x7e) return false;
  return true;
}

/**
 * One track of a stream description, per `TrackInfo`: `id` a non-negative integer; `kind` one of
 * video/audio/other; `codec` and `codecId` strings (codec may be empty) of at most `MAX_CODEC`
 * characters without control characters; `timescale` finite, > 0 (>= 0 for `other` tracks); the
 * optional `width`, `height`, `sampleRate`, `channels` finite and >= 0 when present. Undefined otherwise.
 */
function validTrack(v: unknown): TrackInfo | undefined {
  if (!isObject(v)) return undefined;
  const { id, kind, codec, codecId, timescale } = v;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) return undefined;
  if (!KINDS.has(kind) || !isText(codec, 0, MAX_CODEC) || !isText(codecId, 0, MAX_CODEC)) return undefined;
  if (!nonNegative(timescale) || (timescale === 0 && kind !== "other")) return undefined;
  const track: TrackInfo = { id, kind: kind as TrackInfo["kind"], codec, codecId, timescale };
  for (const key of ["width", "height", "sampleRate", "channels"] as const) {
    const x = v[key];
    if (x === undefined) continue;
    if (!nonNegative(x)) return undefined;
    track[key] = x;
  }
  return track;
}

/** A list of at most `MAX_TRACKS` valid tracks (a copy), or undefined. */
function validTracks(v: unknown): TrackInfo[] | undefined {
  if (!Array.isArray(v) || v.length > MAX_TRACKS) return undefined;
  const out: TrackInfo[] = [];
  for (const t of v) {
    const track = validTrack(t);
    if (!track) return undefined;
    out.push(track);
  }
  return out;
}

/** The `stream` message JSON: `format` an ingest format, `mime` 1-`MAX_MIME` characters, valid `tracks`. */
export function validStreamInfo(v: unknown): { format: IngestFormat; mime: string; tracks: TrackInfo[] } | undefined {
  if (!isObject(v)) return undefined;
  const { format, mime } = v;
  if (!isIngestFormat(format) || !isText(mime, 1, MAX_MIME)) return undefined;
  const tracks = validTracks(v.tracks);
  return tracks && { format, mime, tracks };
}

/** The `ended` message JSON: an object whose `error`, when present, has a `reason` and a `message`. */
export function validEnded(v: unknown): { error?: { reason: string; message: string } } | undefined {
  if (!isObject(v)) return undefined;
  const e = v.error;
  if (e === undefined) return {};
  if (!isObject(e) || typeof e.reason !== "string" || !REASON.test(e.reason)) return undefined;
  if (typeof e.message !== "string" || e.message.length > MAX_MESSAGE) return undefined;
  return { error: { reason: e.reason, message: e.message } };
}

/**
 * Tracks as a publisher sends them: optional numbers that are not finite and >= 0 are left out (a
 * container may carry anything there). Required fields are sent as they are.
 */
export function wireTracks(tracks: readonly TrackInfo[]): TrackInfo[] {
  return tracks.map((t) => {
    const out: TrackInfo = { id: t.id, kind: t.kind, codec: t.codec, codecId: t.codecId, timescale: t.timescale };
    for (const key of ["width", "height", "sampleRate", "channels"] as const) if (nonNegative(t[key])) out[key] = t[key];
    return out;
  });
}

/** An `ended` error as sent: reason printable ASCII cut to `MAX_REASON`, message cut to `MAX_MESSAGE`. */
export function wireError(e: { reason: string; message: string }): { reason: string; message: string } {
  return { reason: e.reason.replace(/[^\x21-\x7e]/g, "-").slice(0, MAX_REASON) || "error", message: e.message.slice(0, MAX_MESSAGE) };
}
