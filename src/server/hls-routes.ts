import type { Server } from "bun";
import type { Env, Hono } from "hono";
import { type Config, STREAM_NAME_RE } from "../config.ts";
import { blockingState, parseDirectives } from "../hls/delivery-directives.ts";
import type { HlsViews } from "../hls/hls-views.ts";
import type { LiveWindow } from "../hls/live-window.ts";
import { MEDIA_NAME_PATTERN, parseMediaName } from "../hls/media-names.ts";
import { writeLivePlaylist } from "../hls/playlist-writer.ts";
import type { Logger } from "../log.ts";
import { cachedViewerCheck } from "./viewer-access.ts";

export interface HlsRoutesDeps {
  /** Undefined with `--hls off`: every LL-HLS request is a 404 that says so. */
  views: HlsViews | undefined;
  config: Pick<Config, "viewerSecret" | "allowedOrigins" | "hlsMaxWaiters">;
  log: Logger;
}

/** A metric family as `renderMetrics` takes it. */
interface HlsFamily {
  name: string;
  type: "counter" | "gauge";
  help: string;
  samples: Array<[Record<string, string>, number]>;
}

/** The LL-HLS routes and their counters. */
export interface HlsRoutes {
  mount<E extends Env>(app: Hono<E>): void;
  metrics(): HlsFamily[];
}

type Kind = "playlist" | "init" | "segment" | "part";
type WaitResult = "ready" | "timeout" | "refused" | "aborted";

/** Longest blocking wait, whatever the target duration. */
const MAX_WAIT_MS = 30_000;
/** How long a playlist request is held while the stream's first segment is not complete yet. */
const FIRST_SEGMENT_WAIT_MS = 6_000;
/** Verified viewer tokens remembered (HMAC checks are not free with a thousand players). */
const TOKEN_CACHE = 4096;
const IMMUTABLE = "public, max-age=31536000, immutable";
const PLAYLIST_TYPE = "application/vnd.apple.mpegurl";

/**
 * LL-HLS over HTTP (RFC 8216bis §6.2.5-6.2.6): `GET /hls/:stream/index.m3u8` with blocking reload
 * (`_HLS_msn`/`_HLS_part`, held at most three target durations, then 503) and delta updates
 * (`_HLS_skip`), and the media named in it (`init-*.mp4`, `s-*.m4s`, `p-*.m4s`; a request for the
 * preload-hinted part waits until it is complete). Viewer rules as for WebSockets (`checkViewer`): a
 * valid `?token=` is carried into every URI of the playlist. Media is immutable and cacheable for a
 * year (names are unique per content), playlists for a second (30 s for blocking answers, whose
 * content is fixed by the request), errors never. CORS on every answer and OPTIONS preflights.
 * Waiters per stream are capped (`hlsMaxWaiters`, then 503 at once). A stream's playlist is first
 * served once its first segment is complete (a request before is held up to 6 s, then 503): its target
 * duration and part target are fixed from that segment. HEAD is answered like GET without a body (Hono).
 */
export function createHlsRoutes(deps: HlsRoutesDeps): HlsRoutes {
  const { views, config, log } = deps;
  const requests = new Map<string, number>();
  const blocked = new Map<Kind, number>();
  const timeouts = new Map<Kind, number>();
  const waiters = new Map<string, number>();
  const viewerCheck = cachedViewerCheck(config, TOKEN_CACHE);
  let refused = 0;
  let waiting = 0;
  const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

  const cors = (origin: string | undefined): Record<string, string> => {
    if (config.allowedOrigins.length === 0) return { "access-control-allow-origin": "*" };
    return origin && config.allowedOrigins.includes(origin)
      ? { "access-control-allow-origin": origin, vary: "Origin" }
      : { vary: "Origin" };
  };
  const encoder = new TextEncoder();
  const answer = (kind: Kind, status: number, body: string | Uint8Array, headers: Record<string, string>) => {
    bump(requests, `${kind}\u0000${status}`);
    const h = status === 200 ? headers : { ...headers, "cache-control": "no-store", "content-type": "text/plain; charset=utf-8" };
    const bytes = typeof body === "string" ? encoder.encode(status === 200 ? body : `${body}\n`) : body;
    // Stated, so that HEAD (answered by the GET route, without the body) tells the size too.
    return new Response(bytes as Uint8Array<ArrayBuffer>, { status, headers: { ...h, "content-length": String(bytes.byteLength) } });
  };

  /** The viewer rules of WebSockets (verified tokens remembered, see `cachedViewerCheck`); a valid token goes into every URI. */
  const admit = async (url: URL, origin: string | undefined, name: string) => {
    const denied = await viewerCheck(url, origin ?? null, name);
    const token = url.searchParams.get("token");
    return { denied, query: !denied && config.viewerSecret !== "" && token ? `?token=${encodeURIComponent(token)}` : "" };
  };

  /** Holds until `ready()` or the bound passes; capped per stream; a client that goes away frees its place. */
  const waitFor = (name: string, kind: Kind, ms: number, ready: () => boolean, signal: AbortSignal): Promise<WaitResult> => {
    if (ready()) return Promise.resolve("ready");
    // The client may have gone while the request was being admitted: never park it.
    if (signal.aborted) return Promise.resolve("aborted");
    const n = waiters.get(name) ?? 0;
    if (n >= config.hlsMaxWaiters) {
      if (refused++ % 1000 === 0) log.warn("hls-waiters-full", { stream: name, waiters: n, limit: config.hlsMaxWaiters });
      return Promise.resolve("refused");
    }
    waiters.set(name, n + 1);
    waiting++;
    bump(blocked, kind);
    return new Promise((resolve) => {
      let unsubscribe = () => {};
      const done = (r: WaitResult) => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener("abort", onAbort);
        const left = (waiters.get(name) ?? 1) - 1;
        if (left > 0) waiters.set(name, left);
        else waiters.delete(name);
        waiting--;
        if (r === "timeout") bump(timeouts, kind);
        resolve(r);
      };
      const onAbort = () => done("aborted");
      const timer = setTimeout(() => done(ready() ? "ready" : "timeout"), ms);
      unsubscribe = views!.subscribe(name, () => ready() && done("ready"));
      signal.addEventListener("abort", onAbort);
    });
  };
  const boundMs = (w: LiveWindow) => (w.ready ? Math.min(MAX_WAIT_MS, 3 * w.targetDuration * 1000) : FIRST_SEGMENT_WAIT_MS);
  const liveWindow = (name: string) => {
    const l = views!.lookup(name);
    return l.kind === "live" ? l.window : undefined;
  };
  /** Lets a held request outlive Bun's idle timeout. */
  const holdOpen = (env: unknown, req: Request, ms: number) =>
    (env as Server<unknown> | undefined)?.timeout?.(req, Math.ceil(ms / 1000) + 5);

  const rendered = new WeakMap<LiveWindow, { version: number; texts: Map<string, string> }>();
  const playlistText = (w: LiveWindow, skip: boolean, query: string) => {
    let cache = rendered.get(w);
    if (!cache || cache.version !== w.version) {
      cache = { version: w.version, texts: new Map() };
      rendered.set(w, cache);
    }
    const key = `${skip ? 1 : 0}${query}`;
    let text = cache.texts.get(key);
    if (text === undefined) {
      text = writeLivePlaylist(w, { skip, query });
      if (cache.texts.size < 64) cache.texts.set(key, text);
    }
    return text;
  };

  /** Checks common to every route: HLS on, a valid name, the viewer rules, a stream with fMP4 media. */
  const prepare = async (
    kind: Kind,
    c: { req: { raw: Request; url: string; param(n: string): string | undefined; header(n: string): string | undefined } },
  ) => {
    const origin = c.req.header("origin");
    const headers = cors(origin);
    const name = c.req.param("stream") ?? "";
    if (!views) return answer(kind, 404, "LL-HLS is off on this server (--hls off)", headers);
    if (!STREAM_NAME_RE.test(name)) return answer(kind, 400, "invalid stream name: use 1-64 letters, digits, _ or -", headers);
    const url = new URL(c.req.url);
    const { denied, query } = await admit(url, origin, name);
    if (denied) return answer(kind, denied.status, denied.message, headers);
    const l = views.lookup(name);
    if (l.kind === "webm")
      return answer(
        kind,
        404,
        `stream ${name} is WebM: LL-HLS needs fMP4 media; WebM is relayed over WebSocket only (/ws/${name})`,
        headers,
      );
    if (l.kind === "none") return answer(kind, 404, `no live stream called ${name}`, headers);
    return { name, url, query, headers };
  };

  const playlist = async (c: Parameters<typeof prepare>[1] & { env: unknown }) => {
    const p = await prepare("playlist", c);
    if (p instanceof Response) return p;
    const { name, url, query, headers } = p;
    const parsed = parseDirectives(url.searchParams);
    if (!parsed.ok) return answer("playlist", 400, parsed.message, headers);
    const d = parsed.directives;
    const signal = c.req.raw.signal;
    let w = liveWindow(name)!;
    if (!w.ready) {
      // Live, but its first segment is not complete: EXT-X-TARGETDURATION and PART-TARGET are fixed from it
      // and never change (RFC 8216bis §6.2.1), so no playlist before it. Held like a blocking request.
      holdOpen(c.env, c.req.raw, boundMs(w));
      const r = await waitFor(name, "playlist", boundMs(w), () => liveWindow(name)?.ready ?? true, signal);
      if (r === "timeout")
        return answer("playlist", 503, `stream ${name} has no complete segment yet (waiting for its next keyframe); retry`, {
          ...headers,
          "retry-after": "1",
        });
      if (r !== "ready") return waitFailure("playlist", r, headers);
      const now = liveWindow(name);
      if (!now) return answer("playlist", 404, `no live stream called ${name}`, headers);
      w = now;
    }
    const state = blockingState(w, d);
    if (state === "too-far")
      return answer("playlist", 400, "_HLS_msn/_HLS_part is too far ahead of the playlist (RFC 8216bis 6.2.5.2)", headers);
    if (state === "wait") {
      const ms = boundMs(w);
      holdOpen(c.env, c.req.raw, ms);
      const r = await waitFor(
        name,
        "playlist",
        ms,
        () => (liveWindow(name) ? blockingState(liveWindow(name)!, d) !== "wait" : true),
        signal,
      );
      if (r !== "ready") return waitFailure("playlist", r, headers);
      const now = liveWindow(name);
      if (!now?.ready) return answer("playlist", 404, `no live stream called ${name}`, headers);
      w = now;
    }
    const cache = d.msn !== undefined && !w.ended ? "public, max-age=30" : "public, max-age=1";
    return answer("playlist", 200, playlistText(w, d.skip, query), { ...headers, "content-type": PLAYLIST_TYPE, "cache-control": cache });
  };

  const waitFailure = (kind: Kind, r: WaitResult, headers: Record<string, string>) =>
    r === "refused"
      ? answer(kind, 503, "too many requests are waiting on this stream; retry", { ...headers, "retry-after": "1" })
      : answer(kind, 503, "not available within three target durations (RFC 8216bis 6.2.5.2); retry", headers);

  const media = async (c: Parameters<typeof prepare>[1] & { env: unknown }) => {
    const m = parseMediaName(c.req.param("file") ?? "");
    const kind: Kind = m?.kind ?? "segment";
    const p = await prepare(kind, c);
    if (p instanceof Response) return p;
    const { name, headers } = p;
    const w = liveWindow(name)!;
    const ok = (bytes: Uint8Array) => answer(kind, 200, bytes, { ...headers, "content-type": "video/mp4", "cache-control": IMMUTABLE });
    const missing = () => answer(kind, 404, `${c.req.param("file")} is not (or no longer) in stream ${name}'s playlist`, headers);
    if (!m) return missing();
    if (m.kind === "init") return w.init(m.epoch) ? ok(w.init(m.epoch)!) : missing();
    if (m.kind === "segment") return w.segment(m.epoch, m.msn) ? ok(w.segment(m.epoch, m.msn)!) : missing();
    const now = w.part(m.epoch, m.msn, m.part);
    if (now) return ok(now);
    const hint = w.hint;
    // §6.2.6: a request for the preload-hinted part is held until the part is complete.
    if (!hint || hint.epoch !== m.epoch || hint.msn !== m.msn || hint.part !== m.part) return missing();
    const ms = boundMs(w);
    holdOpen(c.env, c.req.raw, ms);
    const stillHinted = () => {
      const h = liveWindow(name)?.hint;
      return h !== undefined && h.epoch === m.epoch && h.msn === m.msn && h.part === m.part;
    };
    const r = await waitFor(name, "part", ms, () => !stillHinted(), c.req.raw.signal);
    if (r !== "ready") return waitFailure("part", r, headers);
    const bytes = liveWindow(name)?.part(m.epoch, m.msn, m.part);
    return bytes ? ok(bytes) : missing();
  };

  const preflight = (c: { req: { header(n: string): string | undefined } }) =>
    new Response(null, {
      status: 204,
      headers: {
        ...cors(c.req.header("origin")),
        "access-control-allow-methods": "GET, HEAD, OPTIONS",
        "access-control-allow-headers": "Range",
        "access-control-max-age": "86400",
      },
    });

  return {
    mount(app) {
      app.get("/hls/:stream/index.m3u8", (c) => playlist(c));
      app.get(`/hls/:stream/:file{${MEDIA_NAME_PATTERN}}`, (c) => media(c));
      app.options("/hls/:stream/index.m3u8", (c) => preflight(c));
      app.options(`/hls/:stream/:file{${MEDIA_NAME_PATTERN}}`, (c) => preflight(c));
    },
    metrics() {
      const byStream = [...(views?.windows() ?? [])];
      return [
        {
          name: "sluice_hls_requests_total",
          type: "counter",
          help: "LL-HLS requests answered, by kind (playlist, init, segment, part) and HTTP status.",
          samples: [...requests].map(([k, n]) => {
            const [kind, status] = k.split("\u0000");
            return [{ kind: kind!, status: status! }, n];
          }),
        },
        {
          name: "sluice_hls_blocked_requests_total",
          type: "counter",
          help: "LL-HLS requests held until the playlist or the hinted part was ready (blocking reload, preload hint).",
          samples: [...blocked].map(([kind, n]) => [{ kind }, n]),
        },
        {
          name: "sluice_hls_wait_timeouts_total",
          type: "counter",
          help: "Held LL-HLS requests answered 503 after three target durations.",
          samples: [...timeouts].map(([kind, n]) => [{ kind }, n]),
        },
        {
          name: "sluice_hls_waiters_refused_total",
          type: "counter",
          help: "LL-HLS requests refused with 503 because the stream had --hls-max-waiters requests held.",
          samples: [[{}, refused]],
        },
        { name: "sluice_hls_waiters", type: "gauge", help: "LL-HLS requests being held now.", samples: [[{}, waiting]] },
        {
          name: "sluice_hls_window_bytes",
          type: "gauge",
          help: "Bytes of LL-HLS media held for the stream.",
          samples: byStream.map((s) => [{ stream: s.name }, s.bytes]),
        },
        {
          name: "sluice_hls_segment_splits_total",
          type: "counter",
          help: "LL-HLS segments closed at a part boundary without a keyframe, to stay within EXT-X-TARGETDURATION.",
          samples: byStream.map((s) => [{ stream: s.name }, s.splits]),
        },
        {
          name: "sluice_hls_parts_over_target_total",
          type: "counter",
          help: "LL-HLS parts longer than PART-TARGET: a publisher fragment longer than the target, which cannot be split.",
          samples: byStream.map((s) => [{ stream: s.name }, s.longParts]),
        },
        {
          name: "sluice_hls_segments_over_target_total",
          type: "counter",
          help: "LL-HLS segments whose EXTINF rounds above EXT-X-TARGETDURATION: a single fragment outlasting it.",
          samples: byStream.map((s) => [{ stream: s.name }, s.longSegments]),
        },
        {
          name: "sluice_hls_window_overflows_total",
          type: "counter",
          help: "Times a stream's open LL-HLS segment outgrew --hls-max-bytes and the window was dropped.",
          samples: byStream.map((s) => [{ stream: s.name }, s.overflows]),
        },
      ];
    },
  };
}
