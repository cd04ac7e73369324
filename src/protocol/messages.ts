import { type IngestFormat, isIngestFormat, type TrackInfo } from "../container/types.ts";

/**
 * The viewer WebSocket protocol (`/ws/:stream`), the one place its messages are defined: the server's
 * encoders and the player's decoder both live here. Pure (web standards only), so the player bundle
 * imports this very module.
 *
 * Server → viewer: text messages below; binary messages are media — the init segment right after every
 * `stream`, then one message per fragment (the GOP cache first on join). Viewer → server: small text
 * control messages only (`ping`).
 */

/** A publisher is live (or sent a new init): the next binary message is its init segment. */
export interface StreamAnnouncement {
  type: "stream";
  stream: string;
  /** Full MSE type, e.g. `video/mp4; codecs="avc1.64001E,mp4a.40.2"`. */
  mime: string;
  /** What the publisher speaks (fmp4, webm, mpegts, rtmp); the media is WebM for webm, fMP4 otherwise. */
  format: IngestFormat;
  tracks: TrackInfo[];
  width?: number;
  height?: number;
}

export type ServerMessage =
  /** Connected before any publisher: a `stream` follows when one goes live. */
  | { type: "waiting"; stream: string }
  | StreamAnnouncement
  /** Fragments were left out (slow viewer, cluster resync): the next binary message starts at a keyframe. */
  | { type: "skip"; stream: string }
  /** The publisher was closed for bad input; `ended` follows. */
  | { type: "error"; stream: string; reason: string; message: string }
  | { type: "ended"; stream: string }
  /** The answer to a `ping`, echoing its `t`. */
  | { type: "pong"; t: number };

/** A viewer's clock reading (`performance.now()` ms); the `pong` echoes it back, giving the round trip. */
export type ViewerMessage = { type: "ping"; t: number };

/** The one way the server builds a text message. */
export function encodeServerMessage(m: ServerMessage): string {
  return JSON.stringify(m);
}

export function encodeViewerMessage(m: ViewerMessage): string {
  return JSON.stringify(m);
}

/** Decodes and validates a server text message; `undefined` for anything malformed or unknown. */
export function decodeServerMessage(text: string): ServerMessage | undefined {
  const m = parseObject(text);
  if (!m) return undefined;
  const stream = m.get("stream");
  if (m.get("type") === "pong") return finite(m.get("t")) ? { type: "pong", t: m.get("t") as number } : undefined;
  if (typeof stream !== "string") return undefined;
  switch (m.get("type")) {
    case "waiting":
    case "ended":
    case "skip":
      return { type: m.get("type") as "waiting" | "ended" | "skip", stream };
    case "error": {
      const reason = m.get("reason");
      const message = m.get("message");
      if (typeof reason !== "string" || typeof message !== "string") return undefined;
      return { type: "error", stream, reason, message };
    }
    case "stream": {
      const mime = m.get("mime");
      const format = m.get("format");
      const tracks = m.get("tracks");
      if (typeof mime !== "string" || mime === "" || !isIngestFormat(format) || !Array.isArray(tracks)) return undefined;
      const decoded = tracks.map(decodeTrack);
      if (decoded.some((t) => t === undefined)) return undefined;
      const width = m.get("width");
      const height = m.get("height");
      return {
        type: "stream",
        stream,
        mime,
        format,
        tracks: decoded as TrackInfo[],
        width: finite(width) ? width : undefined,
        height: finite(height) ? height : undefined,
      };
    }
    default:
      return undefined;
  }
}

/** Decodes and validates a viewer text message; `undefined` for anything malformed or unknown. */
export function decodeViewerMessage(text: string): ViewerMessage | undefined {
  const m = parseObject(text);
  if (m?.get("type") !== "ping") return undefined;
  const t = m.get("t");
  return finite(t) ? { type: "ping", t } : undefined;
}

const TRACK_KINDS: ReadonlySet<unknown> = new Set(["video", "audio", "other"]);

/** A `TrackInfo` with every field of its type, or undefined. */
export function decodeTrack(v: unknown): TrackInfo | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const t = new Map(Object.entries(v));
  const id = t.get("id");
  const kind = t.get("kind");
  const codec = t.get("codec");
  const codecId = t.get("codecId");
  const timescale = t.get("timescale");
  if (
    !finite(id) ||
    !TRACK_KINDS.has(kind) ||
    typeof codec !== "string" ||
    typeof codecId !== "string" ||
    !finite(timescale) ||
    timescale <= 0
  )
    return undefined;
  const track: TrackInfo = { id, kind: kind as TrackInfo["kind"], codec, codecId, timescale };
  for (const key of ["width", "height", "sampleRate", "channels"] as const) {
    const value = t.get(key);
    if (value === undefined) continue;
    if (!finite(value) || value < 0) return undefined;
    track[key] = value;
  }
  return track;
}

/** The fields of a JSON object as a Map (never read through a prototype), or undefined. */
function parseObject(text: string): Map<string, unknown> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) ? new Map(Object.entries(raw)) : undefined;
}

function finite(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}
