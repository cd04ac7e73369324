import type { Env, Hono } from "hono";
import { type Config, STREAM_NAME_RE } from "../config.ts";
import { type VodSection, writeVodPlaylist } from "../hls/vod-playlist.ts";
import { parseVodRange, segmentsInRange } from "../hls/vod-range.ts";
import type { Logger } from "../log.ts";
import { answerRange } from "../record/byte-range.ts";
import type { RecordingFile, RecordingStore } from "../record/recording-store.ts";
import { indexSegments } from "../record/segment-index.ts";
import type { ServerCounters } from "../stream/server-counters.ts";
import { noneMatchHits } from "./static-assets.ts";
import { checkViewer } from "./viewer-access.ts";

export interface RecordingRoutesDeps {
  store: RecordingStore;
  config: Pick<Config, "viewerSecret" | "allowedOrigins">;
  log: Logger;
  counters: ServerCounters;
}

/** Most segments one VOD playlist may list (a longer range is refused with 400). */
const MAX_VOD_SEGMENTS = 50_000;
const TYPES = new Map([
  ["fmp4", "video/mp4"],
  ["webm", "video/webm"],
]);

type Ctx = {
  req: {
    raw: Request;
    url: string;
    param(n: string): string | undefined;
    query(n: string): string | undefined;
    header(n: string): string | undefined;
  };
};

const text = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

/**
 * Recordings over HTTP, with the WebSocket's viewer rules (Origin allowlist, signed token as `?token=`):
 * `GET /api/recordings/:stream` lists the files (start/end wallclock, duration, bytes, mime),
 * `GET /recordings/:stream/:file` serves one with single byte ranges, and `GET /hls/:stream/vod.m3u8`
 * writes a VOD playlist over a wallclock range of fMP4 recordings whose URIs carry the token.
 * Mounted before the live HLS routes so `vod.m3u8` is never taken for a live media name.
 */
export function mountRecordingRoutes<E extends Env>(app: Hono<E>, deps: RecordingRoutesDeps): void {
  const { store, config, log, counters } = deps;
  const cors = (origin: string | undefined): Record<string, string> => {
    const allowed = config.allowedOrigins.length === 0 ? "*" : origin && config.allowedOrigins.includes(origin) ? origin : undefined;
    return allowed
      ? {
          "access-control-allow-origin": allowed,
          "access-control-expose-headers": "Content-Range, Accept-Ranges, Content-Length, ETag",
          ...(allowed === "*" ? {} : { vary: "Origin" }),
        }
      : {};
  };
  /** The stream name if valid and the viewer may watch it, else the refusal. */
  const admit = async (c: Ctx): Promise<{ stream: string; token: string | undefined; headers: Record<string, string> } | Response> => {
    const stream = c.req.param("stream") ?? "";
    const origin = c.req.header("origin");
    const headers = cors(origin);
    if (!STREAM_NAME_RE.test(stream)) return text(400, "invalid stream name: use 1-64 letters, digits, _ or -", headers);
    const denied = await checkViewer(new URL(c.req.url), origin ?? null, stream, config);
    if (denied) {
      log.warn("recording-refused", { stream, reason: denied.reason });
      counters.reject("viewer", denied.reason);
      return text(denied.status, denied.message, headers);
    }
    return { stream, token: c.req.query("token"), headers };
  };
  const fileUrl = (stream: string, file: string, token: string | undefined) =>
    `/recordings/${stream}/${file}${token ? `?token=${encodeURIComponent(token)}` : ""}`;

  app.get("/api/recordings/:stream", async (c) => {
    const a = await admit(c);
    if (a instanceof Response) return a;
    const out = [];
    for (const f of await store.files(a.stream)) {
      const index = await store.index(f);
      const segments = index ? indexSegments(index, f.bytes) : [];
      const duration = segments.reduce((n, s) => n + s.duration, 0);
      const start = segments[0]?.wallclockMs ?? index?.header.startMs ?? f.startMs;
      out.push({
        file: f.file,
        url: fileUrl(a.stream, f.file, a.token),
        start: new Date(start).toISOString(),
        end: new Date(start + duration * 1000).toISOString(),
        duration: Math.round(duration * 1000) / 1000,
        bytes: f.bytes,
        format: f.format,
        mime: index?.header.mime ?? null,
        segments: segments.length,
        recording: f.active,
      });
    }
    return Response.json({ stream: a.stream, recordings: out }, { headers: { "cache-control": "no-cache", ...a.headers } });
  });

  app.options("/recordings/:stream/:file", (c) => {
    const headers = cors(c.req.header("origin"));
    return new Response(null, {
      status: 204,
      headers: {
        ...headers,
        "access-control-allow-methods": "GET, HEAD",
        "access-control-allow-headers": "Range, If-Range, If-None-Match",
      },
    });
  });
  app.get("/recordings/:stream/:file", async (c) => {
    const a = await admit(c);
    if (a instanceof Response) return a;
    const f = await store.file(a.stream, c.req.param("file"));
    if (!f) return text(404, "no such recording", a.headers);
    return serveFile(c.req.raw, f, a.headers, config.viewerSecret !== "");
  });

  app.get("/hls/:stream/vod.m3u8", async (c) => {
    const a = await admit(c);
    if (a instanceof Response) return a;
    const range = parseVodRange(c.req.query("from"), c.req.query("to"), Date.now());
    if ("error" in range) return text(400, range.error, a.headers);
    const files = (await store.files(a.stream)).filter((f) => f.startMs <= range.toMs && f.modifiedMs >= range.fromMs);
    const sections: VodSection[] = [];
    let count = 0;
    let webm = false;
    for (const f of files) {
      if (f.format !== "fmp4") {
        webm = true;
        continue;
      }
      const index = await store.index(f);
      if (!index) continue;
      const segments = segmentsInRange(indexSegments(index, f.bytes), range);
      if (segments.length === 0) continue;
      count += segments.length;
      if (count > MAX_VOD_SEGMENTS)
        return text(400, `the range holds more than ${MAX_VOD_SEGMENTS} segments: narrow it with from= and to=`, a.headers);
      sections.push({ uri: fileUrl(a.stream, f.file, a.token), initBytes: index.header.initBytes, segments });
    }
    if (sections.length === 0) {
      const why = webm ? " (VOD HLS needs fMP4 recordings; WebM recordings are served as files only)" : "";
      return text(
        404,
        `no recorded fMP4 segments of ${a.stream} between ${new Date(range.fromMs).toISOString()} and ${new Date(range.toMs).toISOString()}${why}`,
        a.headers,
      );
    }
    return new Response(writeVodPlaylist(sections), {
      headers: { "content-type": "application/vnd.apple.mpegurl", "cache-control": "no-cache", ...a.headers },
    });
  });
}

/** A recording file with validators and single byte ranges (see answerRange). */
function serveFile(req: Request, f: RecordingFile, extra: Record<string, string>, tokens: boolean): Response {
  const etag = `"${f.bytes.toString(16)}-${Math.floor(f.modifiedMs).toString(16)}"`;
  const lastModified = new Date(f.modifiedMs).toUTCString();
  const headers: Record<string, string> = {
    ...extra,
    "accept-ranges": "bytes",
    etag,
    "last-modified": lastModified,
    // A file being written changes; a closed one never does.
    "cache-control": f.active ? "no-cache" : `${tokens ? "private" : "public"}, max-age=86400`,
  };
  if (noneMatchHits(req.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers });
  }
  const type = TYPES.get(f.format)!;
  // If-Range (RFC 9110 §13.1.5): the range applies only to the representation it names (strong ETag or exact date).
  const ifRange = req.headers.get("if-range");
  const rangeHeader = ifRange === null || ifRange === etag || ifRange === lastModified ? req.headers.get("range") : null;
  const answer = answerRange(rangeHeader, f.bytes);
  const file = Bun.file(f.path);
  if (answer.kind === "unsatisfiable")
    return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${f.bytes}` } });
  if (answer.kind === "whole") {
    return new Response(file.slice(0, f.bytes), { headers: { ...headers, "content-type": type, "content-length": String(f.bytes) } });
  }
  const { start, end } = answer;
  return new Response(file.slice(start, end + 1), {
    status: 206,
    headers: {
      ...headers,
      "content-type": type,
      "content-length": String(end - start + 1),
      "content-range": `bytes ${start}-${end}/${f.bytes}`,
    },
  });
}
