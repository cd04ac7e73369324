import { type IngestFormat, isIngestFormat, type TrackInfo } from "../container/types.ts";

/**
 * The viewer WebSocket protocol (`/ws/:stream`), the one place its messages are defined: the server's
 * encoders and the player's decoder both live here. Pure (web standards only), so the player bundle
 * imports this very module.
 *
 * Server → viewer: text messages below; binary messages are media — the init segment right after every
 * `stream`, then one message per fragment (the GOP cache first on join). Viewer → server: small text
 * control messages only (`ping`, `report`).
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

/**
 * What a viewer's latency figure measures: "e2e" = display wallclock − the wallclock the publisher (or,
 * for remuxed RTMP/MPEG-TS, Sluice on arrival) wrote in the fragment's `prft`; "buffer" = buffered
 * end − currentTime (no clock comparison).
 */
export type LatencyKind = "e2e" | "buffer";
/** Every `LatencyKind`, in the order summaries prefer on a tie. */
export const LATENCY_KINDS: readonly LatencyKind[] = ["e2e", "buffer"];

/** How often a player reports by default. */
export const REPORT_INTERVAL_MS = 5000;
/** The shortest interval a player may report at (the server accepts one report per viewer per such interval, with slack). */
export const REPORT_MIN_INTERVAL_MS = 2000;
/** Longest viewer text message the server reads as a report or ping (UTF-8 bytes); a report is ~100. */
export const VIEWER_MESSAGE_MAX_BYTES = 512;

/**
 * A viewer's playback report, sent every few seconds while it plays. Counters count since this
 * WebSocket opened; the server takes per-viewer deltas and clamps everything (untrusted input).
 */
export interface ViewerReport {
  type: "report";
  /** Seconds, of `kind`, at the moment of the report. */
  latency: number;
  kind: LatencyKind;
  /** The target buffer latency in use (seconds), when the player knows it. */
  target?: number;
  /** Times playback stalled (the buffer ran dry while live). */
  stalls: number;
  /** Video frames dropped and decoded (getVideoPlaybackQuality). */
  dropped: number;
  decoded: number;
}

/** A viewer's clock reading (`performance.now()` ms); the `pong` echoes it back, giving the round trip. */
interface ViewerPing {
  type: "ping";
  t: number;
}

export type ViewerMessage = ViewerPing | ViewerReport;

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

/**
 * Decodes a viewer text message and checks its shape: every field of its type present and a finite
 * number (a report's `target` may be absent or null), `kind` one of `LATENCY_KINDS`. Values are not
 * range-checked here: the server clamps them. `undefined` for anything malformed or unknown.
 */
export function decodeViewerMessage(text: string): ViewerMessage | undefined {
  const m = parseObject(text);
  switch (m?.get("type")) {
    case "ping": {
      const t = m?.get("t");
      return finite(t) ? { type: "ping", t } : undefined;
    }
    case "report":
      return decodeReport(m!);
    default:
      return undefined;
  }
}

function decodeReport(m: Map<string, unknown>): ViewerReport | undefined {
  const latency = m.get("latency");
  const kind = LATENCY_KINDS.find((k) => k === m.get("kind"));
  const target = m.get("target") ?? undefined;
  const stalls = m.get("stalls");
  const dropped = m.get("dropped");
  const decoded = m.get("decoded");
  if (!finite(latency) || !kind || !finite(stalls) || !finite(dropped) || !finite(decoded)) return undefined;
  if (target !== undefined && !finite(target)) return undefined;
  const report: ViewerReport = { type: "report", latency, kind, stalls, dropped, decoded };
  if (target !== undefined) report.target = target;
  return report;
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
