import { STREAM_NAME_RE } from "../config.ts";
import { isIngestFormat } from "../container/types.ts";
import { streamJson } from "../server/stream-json.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { Stream } from "../stream/stream.ts";
import type { RedisLink } from "./redis-link.ts";
import { INFO_PATTERN, infoKey, nameOfInfoKey } from "./wire.ts";
import { isNodeId, MAX_MIME } from "./wire-fields.ts";

/**
 * `/api/streams` in cluster mode: this node's streams merged with the streams live on other nodes
 * (their `sluice:info:<name>` JSON, written by the publishing node with the lease's TTL). Every entry
 * gets `node`: the node publishing it (null when not live). A stream live here (published here or fed
 * from the bus) is shown with this node's counters; a stream live only elsewhere as its publishing
 * node last wrote it (its counters, `updatedAt`). Without Redis, the local streams are shown.
 *
 * Info keys are written by other nodes, so each is validated (`validInfo`) and rebuilt from the known
 * fields: a key that is not JSON, names another stream or an invalid name, or has a field of the
 * wrong type is left out, and unknown fields are dropped.
 */
type StreamJson = Record<string, unknown>;

/** Most info keys read per request (SCAN pages of `SCAN_COUNT`). */
const MAX_CLUSTER_STREAMS = 2000;
const SCAN_COUNT = 200;

export interface StreamsView {
  list(): Promise<StreamJson[]>;
  one(name: string): Promise<StreamJson | undefined>;
}

export function createStreamsView(
  link: RedisLink,
  registry: StreamRegistry,
  nodeId: string,
  sourceOf: (name: string) => string | undefined,
): StreamsView {
  const local = (s: Stream): StreamJson => ({ ...streamJson(s), node: s.live ? (sourceOf(s.name) ?? nodeId) : null });
  const parse = (raw: string | null, name: string): StreamJson | undefined => {
    if (!raw || raw.length > MAX_INFO_CHARS) return undefined;
    try {
      return validInfo(JSON.parse(raw), name);
    } catch {
      return undefined;
    }
  };
  return {
    async list() {
      const out = new Map(registry.all().map((s) => [s.name, local(s)]));
      try {
        const keys: string[] = [];
        let cursor = "0";
        do {
          const [next, page] = await link.cmd.scan(cursor, "MATCH", INFO_PATTERN, "COUNT", SCAN_COUNT);
          keys.push(...page);
          cursor = next;
        } while (cursor !== "0" && keys.length < MAX_CLUSTER_STREAMS);
        const values = keys.length ? await link.cmd.mget(...keys.slice(0, MAX_CLUSTER_STREAMS)) : [];
        values.forEach((raw, i) => {
          const name = nameOfInfoKey(keys[i]!);
          const info = parse(raw, name);
          if (!info || out.get(name)?.live) return;
          out.set(name, info);
        });
      } catch {
        // Redis unreachable: this node's streams only.
      }
      return [...out.values()];
    },
    async one(name) {
      const s = registry.get(name);
      if (s?.live) return local(s);
      const info = parse(await link.cmd.get(infoKey(name)).catch(() => null), name);
      if (info) return info;
      return s ? local(s) : undefined;
    },
  };
}

/** Longest info key value read (a stream's JSON is well under 2 KB). */
const MAX_INFO_CHARS = 16 * 1024;
/** The fields of `streamJson` in its order: "count" = finite and >= 0, "number" = finite or null. */
const NUMBERS: ReadonlyArray<[string, "count" | "number"]> = [
  ["width", "number"],
  ["height", "number"],
  ["viewers", "count"],
  ["bitrate", "count"],
  ["fragmentRate", "number"],
  ["keyframeInterval", "number"],
  ["uptime", "number"],
  ["bytesIn", "count"],
  ["bytesOut", "count"],
  ["fragments", "count"],
  ["keyframes", "count"],
  ["publisherConnects", "count"],
  ["publisherRestarts", "count"],
  ["slowViewerSkips", "count"],
  ["slowViewerCloses", "count"],
  ["gopCacheBytes", "count"],
];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isNumberOrNull = (v: unknown): v is number | null => v === null || (typeof v === "number" && Number.isFinite(v));

/**
 * The stream JSON another node stored for `name` (see `streamJson` plus `node` and `updatedAt`),
 * rebuilt from its known fields, or undefined when the name differs or is not a stream name, or any
 * field has the wrong type: `live` boolean, `node` a node id, counters finite and >= 0, `mime` and
 * `format` strings or null, the other numbers finite or null.
 */
function validInfo(v: unknown, name: string): StreamJson | undefined {
  if (!isObject(v) || v.name !== name || !STREAM_NAME_RE.test(name)) return undefined;
  if (typeof v.live !== "boolean" || !isNodeId(v.node)) return undefined;
  const mime = v.mime;
  if (mime !== null && (typeof mime !== "string" || mime.length > MAX_MIME || /\p{Cc}/u.test(mime))) return undefined;
  if (v.format !== null && !isIngestFormat(v.format)) return undefined;
  const out: StreamJson = { name, live: v.live, mime, format: v.format };
  for (const [key, kind] of NUMBERS) {
    const x = v[key];
    if (!(kind === "count" ? isCount(x) : isNumberOrNull(x))) return undefined;
    out[key] = x;
  }
  const delay = v.publishDelayMs;
  if (!isObject(delay) || !isNumberOrNull(delay.p50) || !isNumberOrNull(delay.p99)) return undefined;
  out.publishDelayMs = { p50: delay.p50, p99: delay.p99 };
  // The viewers' latency the source node measured (null without reports).
  const lat = v.viewerLatency;
  if (lat === null || lat === undefined) out.viewerLatency = null;
  else if (isObject(lat) && (lat.kind === "e2e" || lat.kind === "buffer") && isCount(lat.p50) && isCount(lat.p95) && isCount(lat.reports))
    out.viewerLatency = { kind: lat.kind, p50: lat.p50, p95: lat.p95, reports: lat.reports };
  else return undefined;
  if (!isCount(v.updatedAt)) return undefined;
  out.node = v.node;
  out.updatedAt = v.updatedAt;
  return out;
}
