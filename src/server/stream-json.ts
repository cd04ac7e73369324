import type { Stream } from "../stream/stream.ts";

/** The public JSON view of a stream, as served by `/api/streams`. */
export function streamJson(s: Stream): Record<string, unknown> {
  const d = s.describe();
  const st = s.stats;
  const num = (n: number) => (Number.isFinite(n) ? Math.round(n * 1000) / 1000 : null);
  return {
    name: s.name,
    live: s.live,
    mime: d?.mime ?? null,
    format: d?.format ?? null,
    width: d?.width ?? null,
    height: d?.height ?? null,
    viewers: s.viewers,
    bitrate: Math.round(st.bitrate),
    fragmentRate: num(st.fragmentRate),
    keyframeInterval: num(st.keyframeInterval),
    uptime: Number.isFinite(st.liveSince) ? num((Date.now() - st.liveSince) / 1000) : null,
    bytesIn: st.bytesIn,
    bytesOut: st.bytesOut,
    fragments: st.fragments,
    keyframes: st.keyframes,
    publisherConnects: st.publisherConnects,
    publisherRestarts: Math.max(0, st.publisherConnects - 1),
    slowViewerSkips: st.viewerSkips,
    slowViewerCloses: st.viewerCloses,
    gopCacheBytes: s.gop.bytes,
    publishDelayMs: { p50: num(st.publishDelayPercentile(0.5)), p99: num(st.publishDelayPercentile(0.99)) },
  };
}
