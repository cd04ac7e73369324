import {
  decodeViewerMessage,
  REPORT_MIN_INTERVAL_MS,
  type ServerMessage,
  VIEWER_MESSAGE_MAX_BYTES,
  type ViewerReport,
} from "../protocol/messages.ts";
import type { ServerCounters } from "../stream/server-counters.ts";
import type { Stream } from "../stream/stream.ts";
import type { StreamStats } from "../stream/stream-stats.ts";
import { MAX_LATENCY_SECONDS } from "../stream/viewer-latency.ts";

/** Why a viewer message was ignored (the fixed label vocabulary of `sluice_viewer_reports_ignored_total`). */
const IGNORE_REASONS = ["oversized", "malformed", "too-frequent"] as const;
export type IgnoreReason = (typeof IGNORE_REASONS)[number];

/**
 * A report accepted sooner than this after the viewer's previous one is ignored: one report per
 * viewer per REPORT_MIN_INTERVAL_MS, with a quarter of slack for reports bunched up by the network.
 */
export const ACCEPT_GAP_MS = REPORT_MIN_INTERVAL_MS * 0.75;
/** Caps of a report's deltas per second since the viewer's previous report (or its connection). */
const MAX_FRAMES_PER_SECOND = 300;
const MAX_STALLS_PER_SECOND = 2;
/** Largest counter value taken from a report. */
const MAX_COUNTER = 2 ** 32;

/** Server-wide counts of ignored viewer messages, by reason (every reason present, from 0). */
export class IgnoredReports {
  readonly #counts = new Map<IgnoreReason, number>(IGNORE_REASONS.map((r) => [r, 0]));

  count(reason: IgnoreReason): void {
    this.#counts.set(reason, (this.#counts.get(reason) ?? 0) + 1);
  }

  entries(): Array<[IgnoreReason, number]> {
    return [...this.#counts];
  }
}

const tables = new WeakMap<ServerCounters, IgnoredReports>();

/**
 * The ignored-message counts of the server whose counters are `counters` (made on first use, they
 * live as long as those counters; kept beside them so the message handler and `/metrics` share one).
 */
export function ignoredReports(counters: ServerCounters): IgnoredReports {
  let t = tables.get(counters);
  if (!t) {
    t = new IgnoredReports();
    tables.set(counters, t);
  }
  return t;
}

/** A report's counters after clamping. */
interface ReportCounters {
  stalls: number;
  dropped: number;
  decoded: number;
}

/** What the handler keeps per viewer (on its socket's data). */
export interface ReportingViewer {
  /** Wall time (ms) the viewer connected. */
  openedAt: number;
  /** The last accepted report (wall time ms and clamped counters): the base of the next one's deltas. */
  lastReport?: ReportCounters & { at: number };
}

/**
 * Handles one message a viewer sent (untrusted): a `ping` gets the `pong` returned for the caller to
 * send; a `report` is accepted into the stream's stats (see `acceptReport`); anything over
 * VIEWER_MESSAGE_MAX_BYTES, binary, or not a well-formed ping or report is ignored and counted.
 * Reports on a stream nobody published (not `listed`: shown nowhere, and viewers must not make the
 * server keep state for names of their choosing) or one that is gone only move the viewer's baseline.
 */
export function handleViewerMessage(
  message: string | Uint8Array,
  viewer: ReportingViewer,
  stream: Pick<Stream, "listed" | "stats"> | undefined,
  ignored: IgnoredReports,
  now: number,
): ServerMessage | undefined {
  if (typeof message !== "string") {
    ignored.count("malformed");
    return undefined;
  }
  // UTF-16 units never outnumber UTF-8 bytes: the cheap test first, the exact one for what is left.
  if (message.length > VIEWER_MESSAGE_MAX_BYTES || Buffer.byteLength(message) > VIEWER_MESSAGE_MAX_BYTES) {
    ignored.count("oversized");
    return undefined;
  }
  const m = decodeViewerMessage(message);
  if (!m) {
    ignored.count("malformed");
    return undefined;
  }
  if (m.type === "ping") return { type: "pong", t: m.t };
  acceptReport(m, viewer, stream?.listed ? stream.stats : undefined, ignored, now);
  return undefined;
}

/**
 * Takes one decoded report at `now` (wall ms), or ignores it as "too-frequent" when the viewer's
 * previous accepted report is less than ACCEPT_GAP_MS old. Latency is clamped to 0..60 s and
 * recorded under its kind; counters are clamped to integers 0..2^32 and only their growth since the
 * viewer's previous report is added to the stream's totals (resending adds nothing; a counter that
 * went back is a reset, its whole value new), each growth capped by what the time since the previous
 * report (or the connection) allows. Returns whether the report was accepted.
 */
function acceptReport(
  r: ViewerReport,
  viewer: ReportingViewer,
  stats: StreamStats | undefined,
  ignored: IgnoredReports,
  now: number,
): boolean {
  const last = viewer.lastReport;
  // A server clock that stepped back (now < last.at) does not lock the viewer out.
  if (last && now >= last.at && now - last.at < ACCEPT_GAP_MS) {
    ignored.count("too-frequent");
    return false;
  }
  const seconds = Math.max(0, now - (last?.at ?? viewer.openedAt)) / 1000;
  const next = { at: now, stalls: counter(r.stalls), dropped: counter(r.dropped), decoded: counter(r.decoded) };
  viewer.lastReport = next;
  if (!stats) return true;
  stats.viewerLatency.observe(r.kind, Math.min(MAX_LATENCY_SECONDS, Math.max(0, r.latency)), now);
  const frames = Math.ceil(seconds * MAX_FRAMES_PER_SECOND);
  stats.viewerStalls += growth(next.stalls, last?.stalls, Math.ceil(seconds * MAX_STALLS_PER_SECOND));
  stats.viewerDroppedFrames += growth(next.dropped, last?.dropped, frames);
  stats.viewerDecodedFrames += growth(next.decoded, last?.decoded, frames);
  return true;
}

function counter(v: number): number {
  return Math.floor(Math.min(MAX_COUNTER, Math.max(0, v)));
}

/** How much a counter grew since `previous` (all of it after a reset, or when there is none), at most `cap`. */
function growth(value: number, previous: number | undefined, cap: number): number {
  const grew = previous === undefined || value < previous ? value : value - previous;
  return Math.min(cap, grew);
}
