/**
 * The server → viewer text messages of the `/ws/<stream>` WebSocket, decoded defensively: unknown
 * fields are ignored, a malformed message decodes to `undefined`.
 */

import type { Format } from "./fragment-info.ts";

/** One track as the server describes it in a `stream` message. */
export interface TrackDesc {
  id: number;
  kind: string;
  codec: string;
  codecId?: string;
  timescale?: number;
  width?: number;
  height?: number;
}

/** A publisher is live; the next binary message is its init segment. */
export interface StreamMessage {
  type: "stream";
  stream: string;
  mime: string;
  format: Format;
  tracks: TrackDesc[];
  width?: number;
  height?: number;
}

export type ServerMessage =
  | { type: "waiting"; stream: string }
  | StreamMessage
  | { type: "ended"; stream: string }
  | { type: "skip" }
  | { type: "error"; reason: string; message: string };

/** Decodes one text frame; `undefined` for anything that is not a known message. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const stream = typeof m.stream === "string" ? m.stream : "";
  switch (m.type) {
    case "waiting":
    case "ended":
      return { type: m.type, stream };
    case "skip":
      return { type: "skip" };
    case "error":
      return { type: "error", reason: str(m.reason), message: str(m.message) || str(m.reason) || "unknown error" };
    case "stream": {
      const mime = str(m.mime);
      if (!mime) return undefined;
      const format: Format = m.format === "webm" || m.format === "fmp4" ? m.format : /webm/i.test(mime) ? "webm" : "fmp4";
      const tracks = Array.isArray(m.tracks) ? m.tracks.filter(isTrack) : [];
      return { type: "stream", stream, mime, format, tracks, width: num(m.width), height: num(m.height) };
    }
    default:
      return undefined;
  }
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function isTrack(v: unknown): v is TrackDesc {
  if (typeof v !== "object" || v === null) return false;
  const t = v as Record<string, unknown>;
  return typeof t.id === "number" && typeof t.kind === "string" && typeof t.codec === "string";
}
