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
    viewerLatency: viewerLatencyJson(s, Date.now()),
  };
}

/** The viewers' latency over the last minute (`{kind, p50, p95, reports}`, seconds to the ms), or null without reports. */
function viewerLatencyJson(s: Stream, now: number): Record<string, unknown> | null {
  const v = s.stats.viewerLatency.summary(now);
  const ms = (n: number) => Math.round(n * 1000) / 1000;
  return v ? { kind: v.kind, p50: ms(v.p50), p95: ms(v.p95), reports: v.reports } : null;
}
