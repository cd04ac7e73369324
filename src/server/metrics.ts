import type { StreamRegistry } from "../stream/registry.ts";
import type { ServerCounters } from "../stream/server-counters.ts";
import type { Stream } from "../stream/stream.ts";
import { LATENCY_BUCKETS } from "../stream/viewer-latency.ts";
import { ignoredReports } from "./viewer-reports.ts";

/** A sample: labels, value, and for histograms the sample name's suffix (`_bucket`, `_sum`, `_count`). */
type Sample = [labels: Record<string, string>, value: number, suffix?: string];
interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram";
  help: string;
  samples: Sample[];
}

/**
 * Prometheus text exposition format 0.0.4, hand-written (a few dozen families do not justify a library):
 * `# HELP` and `# TYPE` per family, samples grouped under it, label values escaped, counters `_total`,
 * histograms as cumulative `_bucket{le}` (ending with `+Inf`), `_sum` and `_count`.
 */
export function renderMetrics(
  registry: StreamRegistry,
  counters: ServerCounters,
  memory: { rss: number },
  recording: readonly Family[] = [],
  hls: readonly Family[] = [],
): string {
  const streams = registry.all();
  const per = (fn: (s: Stream) => number): Sample[] => streams.map((s) => [{ stream: s.name }, fn(s)]);
  const families: Family[] = [
    {
      name: "sluice_stream_live",
      type: "gauge",
      help: "1 while the stream has a publisher and an init segment.",
      samples: per((s) => (s.live ? 1 : 0)),
    },
    { name: "sluice_stream_viewers", type: "gauge", help: "Viewers connected to the stream.", samples: per((s) => s.viewers) },
    {
      name: "sluice_stream_received_bytes_total",
      type: "counter",
      help: "Bytes of media received from publishers.",
      samples: per((s) => s.stats.bytesIn),
    },
    {
      name: "sluice_stream_sent_bytes_total",
      type: "counter",
      help: "Bytes of media handed to viewers' sockets.",
      samples: per((s) => s.stats.bytesOut),
    },
    { name: "sluice_stream_fragments_total", type: "counter", help: "Media fragments received.", samples: per((s) => s.stats.fragments) },
    {
      name: "sluice_stream_keyframes_total",
      type: "counter",
      help: "Fragments that start with a video keyframe.",
      samples: per((s) => s.stats.keyframes),
    },
    {
      name: "sluice_stream_publisher_connects_total",
      type: "counter",
      help: "Publisher connections accepted for the stream.",
      samples: per((s) => s.stats.publisherConnects),
    },
    {
      name: "sluice_stream_slow_viewer_skips_total",
      type: "counter",
      help: "Times a slow viewer skipped ahead to a keyframe.",
      samples: per((s) => s.stats.viewerSkips),
    },
    {
      name: "sluice_stream_slow_viewer_closes_total",
      type: "counter",
      help: "Viewers closed for falling too far behind.",
      samples: per((s) => s.stats.viewerCloses),
    },
    {
      name: "sluice_stream_bitrate_bits_per_second",
      type: "gauge",
      help: "Received bitrate over the last 5 s.",
      samples: per((s) => s.stats.bitrate),
    },
    {
      name: "sluice_stream_fragment_rate_per_second",
      type: "gauge",
      help: "Fragments per second over the last 5 s.",
      samples: per((s) => s.stats.fragmentRate),
    },
    {
      name: "sluice_stream_keyframe_interval_seconds",
      type: "gauge",
      help: "Media time between the last two keyframes.",
      samples: per((s) => s.stats.keyframeInterval).filter(([, v]) => Number.isFinite(v)),
    },
    { name: "sluice_stream_gop_cache_bytes", type: "gauge", help: "Bytes held in the GOP cache.", samples: per((s) => s.gop.bytes) },
    {
      name: "sluice_stream_uptime_seconds",
      type: "gauge",
      help: "Seconds since the current publisher went live.",
      samples: per((s) => (Number.isFinite(s.stats.liveSince) ? (Date.now() - s.stats.liveSince) / 1000 : 0)),
    },
    {
      name: "sluice_viewer_latency_seconds",
      type: "histogram",
      help: "Latency viewers reported, by kind: e2e (display wallclock minus publisher wallclock) or buffer (buffered end minus currentTime).",
      samples: streams.flatMap(viewerLatencySamples),
    },
    {
      name: "sluice_viewer_stalls_total",
      type: "counter",
      help: "Playback stalls viewers reported (the buffer ran dry while live).",
      samples: per((s) => s.stats.viewerStalls),
    },
    {
      name: "sluice_viewer_dropped_frames_total",
      type: "counter",
      help: "Video frames viewers reported dropped.",
      samples: per((s) => s.stats.viewerDroppedFrames),
    },
    {
      name: "sluice_viewer_decoded_frames_total",
      type: "counter",
      help: "Video frames viewers reported decoded.",
      samples: per((s) => s.stats.viewerDecodedFrames),
    },
    {
      name: "sluice_viewer_reports_ignored_total",
      type: "counter",
      help: "Viewer messages ignored, by reason: oversized, malformed, or a report too soon after the last.",
      samples: ignoredReports(counters)
        .entries()
        .map(([reason, n]) => [{ reason }, n]),
    },
    {
      name: "sluice_view_errors_total",
      type: "counter",
      help: "Exceptions in the views that follow the fan-out (LL-HLS, recording), by view; the relay goes on.",
      samples: [...counters.viewErrors].map(([view, n]) => [{ view }, n]),
    },
    {
      name: "sluice_parser_errors_total",
      type: "counter",
      help: "Publishers closed for bad input, by reason.",
      samples: [...counters.parserErrors].map(([reason, n]) => [{ reason }, n]),
    },
    {
      name: "sluice_rejected_connections_total",
      type: "counter",
      help: "Refused publisher and viewer connections, by kind and reason.",
      samples: counters.rejections().map(([kind, reason, n]) => [{ kind, reason }, n]),
    },
    {
      name: "sluice_viewer_connections_total",
      type: "counter",
      help: "Viewer connections accepted.",
      samples: [[{}, counters.viewersTotal]],
    },
    {
      name: "sluice_process_resident_memory_bytes",
      type: "gauge",
      help: "Resident set size of the Sluice process.",
      samples: [[{}, memory.rss]],
    },
  ];
  return [...families, ...recording, ...hls].map(renderFamily).join("");
}

/** The latency histogram of each kind `s`'s viewers reported: cumulative buckets, sum and count. */
function viewerLatencySamples(s: Stream): Sample[] {
  return s.stats.viewerLatency.histograms().flatMap(([kind, h]) => {
    const labels = { stream: s.name, kind };
    let cumulative = 0;
    const buckets: Sample[] = h.buckets.map((n, i) => {
      cumulative += n;
      const le = i < LATENCY_BUCKETS.length ? formatValue(LATENCY_BUCKETS[i]!) : "+Inf";
      return [{ ...labels, le }, cumulative, "_bucket"];
    });
    return [...buckets, [labels, h.sum, "_sum"], [labels, h.count, "_count"]];
  });
}

function renderFamily(f: Family): string {
  const lines = [`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${f.name} ${f.type}`];
  for (const [labels, value, suffix = ""] of f.samples) {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
    lines.push(`${f.name}${suffix}${l.length ? `{${l.join(",")}}` : ""} ${formatValue(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Number.isInteger(v) ? String(v) : v.toFixed(6).replace(/0+$/, "").replace(/\.$/, "");
}
