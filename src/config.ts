import { type CidrRange, parseCidr } from "./access/cidr.ts";

/**
 * The one typed configuration of Sluice: defaults in one table, overridden by environment variables
 * and then by command-line flags, validated at start with messages that say what to fix.
 * Pure (no Bun APIs): `parseConfig(argv, env)` is testable without starting anything.
 */

export interface Config {
  /** Raw TCP ingest: address and port; the stream it feeds. */
  ingestHost: string;
  ingestPort: number;
  ingestStream: string;
  /** Further TCP ingest ports, each feeding its own stream (`--ingest 9091=cam2`). */
  extraIngests: IngestPort[];
  /** RTMP ingest (publish only): address and port; `null` = off. */
  rtmpHost: string;
  rtmpPort: number | null;
  /** UDP MPEG-TS ingest ports, each feeding its own stream (`--ingest-udp 5000=cam`). */
  udpIngests: IngestPort[];
  /** Fragment length for remuxed sources (RTMP, MPEG-TS): one per video frame, or about this many ms. */
  remuxFragment: "frame" | { ms: number };
  /** HTTP + WebSocket server. */
  httpHost: string;
  httpPort: number;
  /** Largest accepted fMP4 box / WebM element, bytes. */
  maxElementBytes: number;
  /** GOP cache per stream, bytes; a GOP larger than this is not cached (late joiners wait for the next keyframe). */
  gopCacheBytes: number;
  /** Hard limit of one viewer's queued bytes: past it the viewer is closed (never silently dropped). */
  viewerBufferBytes: number;
  /** Slow-viewer lag threshold: a viewer queueing more than this many seconds of the stream skips to the next keyframe. */
  slowViewerLagSeconds: number;
  /** Floor of that threshold in bytes, for low-bitrate streams. */
  slowViewerMinLagBytes: number;
  /** Largest message a viewer may send, bytes. */
  maxViewerMessageBytes: number;
  /** A publisher that sends nothing for this long is closed, seconds. */
  publisherIdleSeconds: number;
  /** Directory served as the player (index.html, sluice-player.ts). */
  staticDir: string;
  /** Idle streams (no publisher, no viewers) remembered for their counters. */
  idleStreamsKept: number;
  /** Most streams with a publisher at once. */
  maxPublishers: number;
  /** Most viewers of one stream, and of all streams together. */
  maxViewersPerStream: number;
  maxViewers: number;
  /** Most viewers from one client address. */
  maxViewersPerAddress: number;
  /** Bytes queued for all viewers together: past it the viewers with the longest queues are closed. */
  viewerTotalBufferBytes: number;
  /** Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers name the client (empty: those headers are ignored). */
  trustedProxies: CidrRange[];
  /** Origins besides Sluice's own whose WebSocket URLs the watch page's `?src=` may play. */
  pageSrcOrigins: string[];
  /** Most concurrent ingest connections (TCP + HTTP) from one address. */
  maxIngestPerAddress: number;
  /** A new publisher for a live stream replaces the old one (default: it is refused). */
  publisherTakeover: boolean;
  /** Global publish key for HTTP ingest ("" = none). */
  publishKey: string;
  /** Per-stream publish keys for HTTP ingest (a Map: stream names are user text, never plain-object keys). */
  streamKeys: ReadonlyMap<string, string>;
  /** Addresses allowed to publish without a key (TCP ingest always; HTTP ingest when no key applies). */
  ingestAllow: CidrRange[];
  /** Secret for signed viewer tokens ("" = viewers need no token). */
  viewerSecret: string;
  /** Allowed WebSocket `Origin`s (empty = any). */
  allowedOrigins: string[];
  /** Log level: "info" logs events, "warn" only problems, "silent" nothing. */
  logLevel: "info" | "warn" | "silent";
  /** LL-HLS egress at /hls/:stream/index.m3u8 for fMP4 streams. */
  hls: boolean;
  /** LL-HLS part target, ms (parts aggregate whole fragments up to this). */
  hlsPartMs: number;
  /** LL-HLS complete segments listed per playlist. */
  hlsSegments: number;
  /** LL-HLS bytes held per stream (playlist window and recently removed segments). */
  hlsMaxBytes: number;
  /** LL-HLS requests held (blocking reload, preload hint) per stream at once. */
  hlsMaxWaiters: number;
  /** How long an ended stream's LL-HLS playlist (with EXT-X-ENDLIST) is kept, seconds. */
  hlsEndedSeconds: number;
  /** Cluster mode: the Redis URL (`redis://host:port`) shared by every node; "" = single node, no Redis. */
  redis: string;
  /** Cluster mode: how long a node's claim on a published stream lasts without renewal, seconds. */
  clusterLeaseSeconds: number;
  /** Recording: the directory publisher sessions are written to ("" = recording off). */
  recordDir: string;
  /** Recording: the streams recorded (empty = every stream). */
  recordStreams: string[];
  /** Recording: a new file starts at the first keyframe after this many minutes. */
  recordRotateMinutes: number;
  /** Recording: files older than this are deleted, ms (0 = kept however old). */
  recordMaxAgeMs: number;
  /** Recording: past this many bytes in all, the oldest files are deleted (0 = no limit). */
  recordMaxBytes: number;
  /** Recording: bytes waiting for the disk per stream; past it fragments are dropped until the next keyframe. */
  recordQueueBytes: number;
}

/** One raw TCP ingest port and the stream it feeds. */
interface IngestPort {
  port: number;
  stream: string;
}

type Kind =
  | "bool"
  | "onoff"
  | "count"
  | "string"
  | "port"
  | "bytes"
  | "seconds"
  | "name"
  | "level"
  | "ingests"
  | "secret"
  | "keys"
  | "cidrs"
  | "origins"
  | "redis"
  | "optionalPort"
  | "fragment"
  | "path"
  | "names"
  | "minutes"
  | "age";

/** Loopback and private networks: a first run accepts publishers from this machine and the LAN only. */
export const DEFAULT_INGEST_ALLOW = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,fe80::/10";

interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: string;
  kind: Kind;
  default: string;
  help: string;
}

/** Every option, its flag, environment variable, default and meaning. The README's option table mirrors it. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: "ingestHost",
    flag: "--ingest-host",
    env: "SLUICE_INGEST_HOST",
    kind: "string",
    default: "0.0.0.0",
    help: "address the raw TCP ingest listens on",
  },
  {
    key: "ingestPort",
    flag: "--ingest-port",
    env: "SLUICE_INGEST_PORT",
    kind: "port",
    default: "9090",
    help: "raw TCP ingest port (fMP4 or WebM bytes from ffmpeg)",
  },
  {
    key: "ingestStream",
    flag: "--ingest-stream",
    env: "SLUICE_INGEST_STREAM",
    kind: "name",
    default: "live",
    help: "stream name the TCP ingest port feeds",
  },
  {
    key: "extraIngests",
    flag: "--ingest",
    env: "SLUICE_INGEST",
    kind: "ingests",
    default: "",
    help: "more TCP ingest ports as PORT=STREAM (repeatable flag; env: comma-separated)",
  },
  {
    key: "rtmpHost",
    flag: "--rtmp-host",
    env: "SLUICE_RTMP_HOST",
    kind: "string",
    default: "0.0.0.0",
    help: "address the RTMP ingest listens on",
  },
  {
    key: "rtmpPort",
    flag: "--rtmp-port",
    env: "SLUICE_RTMP_PORT",
    kind: "optionalPort",
    default: "1935",
    help: "RTMP / Enhanced RTMP publish port (rtmp://host:PORT/<app>/<stream>, key as <stream>?key=K); off disables it",
  },
  {
    key: "udpIngests",
    flag: "--ingest-udp",
    env: "SLUICE_INGEST_UDP",
    kind: "ingests",
    default: "",
    help: "UDP MPEG-TS ingest ports as PORT=STREAM (repeatable flag; env: comma-separated); one source address at a time per stream",
  },
  {
    key: "remuxFragment",
    flag: "--remux-fragment",
    env: "SLUICE_REMUX_FRAGMENT",
    kind: "fragment",
    default: "frame",
    help: "fragment length for RTMP and MPEG-TS publishers: frame (one fragment per video frame, lowest latency) or milliseconds, e.g. 100",
  },
  {
    key: "httpHost",
    flag: "--http-host",
    env: "SLUICE_HTTP_HOST",
    kind: "string",
    default: "0.0.0.0",
    help: "address of the HTTP + WebSocket server",
  },
  {
    key: "httpPort",
    flag: "--http-port",
    env: "SLUICE_HTTP_PORT",
    kind: "port",
    default: "8080",
    help: "HTTP + WebSocket port (player, /ws/:stream)",
  },
  {
    key: "maxElementBytes",
    flag: "--max-element-bytes",
    env: "SLUICE_MAX_ELEMENT_BYTES",
    kind: "bytes",
    default: "32MiB",
    help: "largest fMP4 box / WebM element accepted from a publisher",
  },
  {
    key: "gopCacheBytes",
    flag: "--gop-cache-bytes",
    env: "SLUICE_GOP_CACHE_BYTES",
    kind: "bytes",
    default: "8MiB",
    help: "GOP cache per stream (0 disables it: joiners wait for the next keyframe)",
  },
  {
    key: "viewerBufferBytes",
    flag: "--viewer-buffer-bytes",
    env: "SLUICE_VIEWER_BUFFER_BYTES",
    kind: "bytes",
    default: "16MiB",
    help: "hard limit of bytes queued for one viewer: past it the viewer is closed with code 4002 (must exceed the GOP cache)",
  },
  {
    key: "slowViewerLagSeconds",
    flag: "--slow-viewer-lag-seconds",
    env: "SLUICE_SLOW_VIEWER_LAG_SECONDS",
    kind: "seconds",
    default: "2",
    help: "a viewer queueing more than this much of the stream skips ahead to the next keyframe",
  },
  {
    key: "slowViewerMinLagBytes",
    flag: "--slow-viewer-min-lag-bytes",
    env: "SLUICE_SLOW_VIEWER_MIN_LAG_BYTES",
    kind: "bytes",
    default: "256KiB",
    help: "floor of the slow-viewer threshold in bytes (low-bitrate streams)",
  },
  {
    key: "maxViewerMessageBytes",
    flag: "--max-viewer-message-bytes",
    env: "SLUICE_MAX_VIEWER_MESSAGE_BYTES",
    kind: "bytes",
    default: "4KiB",
    help: "largest message a viewer may send",
  },
  {
    key: "publisherIdleSeconds",
    flag: "--publisher-idle-seconds",
    env: "SLUICE_PUBLISHER_IDLE_SECONDS",
    kind: "seconds",
    default: "10",
    help: "close a publisher that sends nothing for this long",
  },
  {
    key: "idleStreamsKept",
    flag: "--idle-streams-kept",
    env: "SLUICE_IDLE_STREAMS_KEPT",
    kind: "count",
    default: "256",
    help: "idle streams remembered for their counters (oldest forgotten first)",
  },
  {
    key: "maxPublishers",
    flag: "--max-publishers",
    env: "SLUICE_MAX_PUBLISHERS",
    kind: "count",
    default: "32",
    help: "most streams being published at once",
  },
  {
    key: "maxViewersPerStream",
    flag: "--max-viewers-per-stream",
    env: "SLUICE_MAX_VIEWERS_PER_STREAM",
    kind: "count",
    default: "2000",
    help: "most viewers of one stream (more get HTTP 503)",
  },
  {
    key: "maxViewers",
    flag: "--max-viewers",
    env: "SLUICE_MAX_VIEWERS",
    kind: "count",
    default: "10000",
    help: "most viewers in total (more get HTTP 503)",
  },
  {
    key: "maxViewersPerAddress",
    flag: "--max-viewers-per-address",
    env: "SLUICE_MAX_VIEWERS_PER_ADDRESS",
    kind: "count",
    default: "64",
    help: "most viewers from one client address (more get HTTP 503)",
  },
  {
    key: "viewerTotalBufferBytes",
    flag: "--viewer-total-buffer-bytes",
    env: "SLUICE_VIEWER_TOTAL_BUFFER_BYTES",
    kind: "bytes",
    default: "1GiB",
    help: "bytes queued for all viewers together; past it the viewers with the longest queues are closed with code 4002",
  },
  {
    key: "maxIngestPerAddress",
    flag: "--max-ingest-per-address",
    env: "SLUICE_MAX_INGEST_PER_ADDRESS",
    kind: "count",
    default: "4",
    help: "most concurrent ingest connections from one address",
  },
  {
    key: "publisherTakeover",
    flag: "--publisher-takeover",
    env: "SLUICE_PUBLISHER_TAKEOVER",
    kind: "bool",
    default: "false",
    help: "a new publisher replaces the live one instead of being refused (true|false)",
  },
  {
    key: "publishKey",
    flag: "--publish-key",
    env: "SLUICE_PUBLISH_KEY",
    kind: "secret",
    default: "",
    help: "key every HTTP publisher may use (?key= or Authorization: Bearer)",
  },
  {
    key: "streamKeys",
    flag: "--stream-key",
    env: "SLUICE_STREAM_KEYS",
    kind: "keys",
    default: "",
    help: "per-stream publish key as STREAM=KEY (repeatable flag; env: comma-separated)",
  },
  {
    key: "ingestAllow",
    flag: "--ingest-allow",
    env: "SLUICE_INGEST_ALLOW",
    kind: "cidrs",
    default: DEFAULT_INGEST_ALLOW,
    help: "address ranges (CIDR, comma-separated) that may publish over TCP, and over HTTP when no key is set",
  },
  {
    key: "trustedProxies",
    flag: "--trusted-proxies",
    env: "SLUICE_TRUSTED_PROXIES",
    kind: "cidrs",
    default: "",
    help: "reverse proxies (CIDR, comma-separated) whose X-Forwarded-For / Forwarded headers give the client address (empty: the headers are ignored)",
  },
  {
    key: "viewerSecret",
    flag: "--viewer-secret",
    env: "SLUICE_VIEWER_SECRET",
    kind: "secret",
    default: "",
    help: "require viewer tokens signed with this secret (scripts/mint-token.ts)",
  },
  {
    key: "allowedOrigins",
    flag: "--allowed-origins",
    env: "SLUICE_ALLOWED_ORIGINS",
    kind: "origins",
    default: "",
    help: "comma-separated WebSocket Origins allowed to watch (empty: any)",
  },
  {
    key: "pageSrcOrigins",
    flag: "--page-src-origins",
    env: "SLUICE_PAGE_SRC_ORIGINS",
    kind: "origins",
    default: "",
    help: "other origins whose streams the watch page may play via ?src= (empty: this server's own only)",
  },
  {
    key: "staticDir",
    flag: "--static-dir",
    env: "SLUICE_STATIC_DIR",
    kind: "string",
    default: "static",
    help: "folder with the player (index.html, sluice-player.ts), relative to the project root",
  },
  { key: "logLevel", flag: "--log-level", env: "SLUICE_LOG_LEVEL", kind: "level", default: "info", help: "info | warn | silent" },
  {
    key: "hls",
    flag: "--hls",
    env: "SLUICE_HLS",
    kind: "onoff",
    default: "on",
    help: "LL-HLS at /hls/<stream>/index.m3u8 for fMP4 streams (native, RTMP, MPEG-TS): on | off",
  },
  {
    key: "hlsPartMs",
    flag: "--hls-part-ms",
    env: "SLUICE_HLS_PART_MS",
    kind: "count",
    default: "200",
    help: "LL-HLS part target in ms (50-5000); parts aggregate whole fragments, so a longer fragment makes a longer part",
  },
  {
    key: "hlsSegments",
    flag: "--hls-segments",
    env: "SLUICE_HLS_SEGMENTS",
    kind: "count",
    default: "12",
    help: "LL-HLS complete segments per playlist (3-1000; delta updates skip only what lies over 6 target durations back)",
  },
  {
    key: "hlsMaxBytes",
    flag: "--hls-max-bytes",
    env: "SLUICE_HLS_MAX_BYTES",
    kind: "bytes",
    default: "64MiB",
    help: "LL-HLS media held per stream; the oldest segments go first",
  },
  {
    key: "hlsMaxWaiters",
    flag: "--hls-max-waiters",
    env: "SLUICE_HLS_MAX_WAITERS",
    kind: "count",
    default: "4096",
    help: "LL-HLS requests held at once per stream (blocking reloads, hinted parts); more get 503",
  },
  {
    key: "hlsEndedSeconds",
    flag: "--hls-ended-seconds",
    env: "SLUICE_HLS_ENDED_SECONDS",
    kind: "seconds",
    default: "30",
    help: "how long an ended stream's LL-HLS playlist (with EXT-X-ENDLIST) stays, before its memory is freed",
  },
  {
    key: "redis",
    flag: "--redis",
    env: "SLUICE_REDIS",
    kind: "redis",
    default: "",
    help: "cluster mode: Redis URL shared by every node, e.g. redis://10.0.0.5:6379 (empty: single node)",
  },
  {
    key: "clusterLeaseSeconds",
    flag: "--cluster-lease-seconds",
    env: "SLUICE_CLUSTER_LEASE_SECONDS",
    kind: "seconds",
    default: "5",
    help: "cluster mode: a node's claim on a stream lasts this long unrenewed (a crashed node's streams end on other nodes and can be published elsewhere after it)",
  },
  {
    key: "recordDir",
    flag: "--record",
    env: "SLUICE_RECORD",
    kind: "path",
    default: "",
    help: "record publisher sessions into this directory (fMP4, WebM for WebM streams; empty: off)",
  },
  {
    key: "recordStreams",
    flag: "--record-streams",
    env: "SLUICE_RECORD_STREAMS",
    kind: "names",
    default: "",
    help: "comma-separated streams to record (empty: every stream)",
  },
  {
    key: "recordRotateMinutes",
    flag: "--record-rotate-minutes",
    env: "SLUICE_RECORD_ROTATE_MINUTES",
    kind: "minutes",
    default: "10",
    help: "start a new recording file at the first keyframe after this many minutes (fractions allowed)",
  },
  {
    key: "recordMaxAgeMs",
    flag: "--record-max-age",
    env: "SLUICE_RECORD_MAX_AGE",
    kind: "age",
    default: "0",
    help: 'delete recordings older than this, e.g. "48h", "7d", "90m", "30s" (0: keep)',
  },
  {
    key: "recordMaxBytes",
    flag: "--record-max-bytes",
    env: "SLUICE_RECORD_MAX_BYTES",
    kind: "bytes",
    default: "0",
    help: "delete the oldest recordings while all of them together exceed this (0: no limit)",
  },
  {
    key: "recordQueueBytes",
    flag: "--record-queue-bytes",
    env: "SLUICE_RECORD_QUEUE_BYTES",
    kind: "bytes",
    default: "32MiB",
    help: "bytes per stream waiting for the disk; past it fragments are dropped until the next keyframe (counted)",
  },
];

/** Raised for any invalid option; the message names the flag/variable and what to fix. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export const STREAM_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Milliseconds per unit of `--record-max-age`. */
const AGE_UNITS = new Map([
  ["s", 1e3],
  ["m", 6e4],
  ["h", 3.6e6],
  ["d", 8.64e7],
]);

/** Result of parsing: either a config to run with, or a request for help. */
export type ParsedArgs = { help: true } | { help: false; config: Config };

/** Parses `argv` (without the runtime and script) over `env` over the defaults; throws `ConfigError`. */
export function parseConfig(argv: readonly string[], env: Record<string, string | undefined>): ParsedArgs {
  const raw = new Map<keyof Config, { value: string; source: string }>();
  for (const o of OPTIONS) {
    const e = env[o.env];
    raw.set(
      o.key,
      e !== undefined && e !== ""
        ? { value: e, source: `environment variable ${o.env}` }
        : { value: o.default, source: `default of ${o.flag}` },
    );
  }
  const seenFlags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return { help: true };
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const spec = OPTIONS.find((o) => o.flag === flag);
    if (!spec) throw new ConfigError(`unknown option "${arg}"; run with --help to see every option`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value (${spec.help})`);
    // A repeated --ingest / --ingest-udp / --stream-key adds an entry; any other repeated flag overrides.
    const prev = raw.get(spec.key);
    const merged = (spec.kind === "ingests" || spec.kind === "keys") && seenFlags.has(flag) && prev ? `${prev.value},${value}` : value;
    seenFlags.add(flag);
    raw.set(spec.key, { value: merged, source: flag });
  }
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    const { value, source } = raw.get(o.key)!;
    out[o.key] = convert(o, value, source);
  }
  const config = out as unknown as Config;
  validate(config);
  return { help: false, config };
}

function convert(o: OptionSpec, value: string, source: string): unknown {
  const bad = (what: string) => new ConfigError(`${source} = "${value}" is not ${what} (${o.help})`);
  switch (o.kind) {
    case "string":
      if (value.trim() === "") throw bad("a non-empty string");
      return value;
    case "bool":
      if (!["true", "false", "1", "0", "yes", "no"].includes(value)) throw bad("true or false");
      return ["true", "1", "yes"].includes(value);
    case "onoff":
      if (!["on", "off", "true", "false"].includes(value)) throw bad("on or off");
      return value === "on" || value === "true";
    case "count": {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < 1 || n > 1_000_000) throw bad("a whole number from 1 to 1000000");
      return n;
    }
    case "optionalPort": {
      if (value === "off") return null;
      const n = Number(value);
      if (!/^\d+$/.test(value) || n > 65535) throw bad('a port number from 0 to 65535, or "off"');
      return n;
    }
    case "fragment": {
      if (value === "frame") return "frame";
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < 1 || n > 10_000) throw bad('"frame" or a number of milliseconds from 1 to 10000');
      return { ms: n };
    }
    case "port": {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < 0 || n > 65535) throw bad("a port number from 0 to 65535");
      return n;
    }
    case "bytes": {
      const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
      const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
      if (!m || unit === undefined) throw bad('a byte count such as "8MiB", "512KiB" or "1048576"');
      return Math.floor(Number(m[1]) * unit);
    }
    case "seconds": {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw bad("a positive number of seconds");
      return n;
    }
    case "name":
      if (!STREAM_NAME_RE.test(value)) throw bad("a stream name (1-64 letters, digits, _ or -)");
      return value;
    case "ingests":
      return value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .map((item) => {
          const m = /^(\d{1,5})=([A-Za-z0-9_-]{1,64})$/.exec(item);
          if (!m || Number(m[1]) > 65535) throw bad('a list of PORT=STREAM pairs such as "9091=cam2,9092=cam3"');
          return { port: Number(m[1]), stream: m[2]! };
        });
    case "secret":
      if (value !== "" && value.length < 8)
        throw new ConfigError(`${source} is too short: use at least 8 characters (the value is not shown)`);
      return value;
    case "keys": {
      const out = new Map<string, string>();
      for (const item of value
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean)) {
        const eq = item.indexOf("=");
        const name = item.slice(0, eq);
        if (eq < 0 || !STREAM_NAME_RE.test(name) || item.length - eq - 1 < 8) {
          throw new ConfigError(
            `${source} needs STREAM=KEY pairs with a valid stream name and a key of at least 8 characters (values not shown)`,
          );
        }
        out.set(name, item.slice(eq + 1));
      }
      return out;
    }
    case "cidrs":
      try {
        return value
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean)
          .map(parseCidr);
      } catch (e) {
        throw bad(`a list of address ranges: ${(e as Error).message}`);
      }
    case "origins":
      return value
        .split(",")
        .map((x) => x.trim().replace(/\/$/, ""))
        .filter(Boolean)
        .map((o) => {
          if (!/^https?:\/\/[^/\s]+$/.test(o)) throw bad('a comma-separated list of origins such as "https://example.com"');
          return o;
        });
    case "level":
      if (!["info", "warn", "silent"].includes(value)) throw bad('one of "info", "warn", "silent"');
      return value;
    case "redis":
      return value === "" ? "" : redisUrl(value, bad);
    case "path":
      if (/[\0\n\r]/.test(value)) throw bad("a directory path");
      return value.trim();
    case "names": {
      const names = value
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
      if (names.some((n) => !STREAM_NAME_RE.test(n))) throw bad("a comma-separated list of stream names (1-64 letters, digits, _ or -)");
      return names;
    }
    case "minutes": {
      const n = Number(value);
      if (!/^\d+(\.\d+)?$/.test(value) || n < 0.01 || n > 1440) throw bad("a number of minutes from 0.01 to 1440");
      return n;
    }
    case "age": {
      const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/i.exec(value.trim());
      if (!m || (m[2] === undefined && Number(m[1]) !== 0)) throw bad('an age with a unit such as "30s", "90m", "48h" or "7d" (0: keep)');
      return Math.round(Number(m[1]) * AGE_UNITS.get((m[2] ?? "s").toLowerCase())!);
    }
  }
}

/** A `redis://` or `rediss://` URL with a host (port, password and database number optional), normalised. */
function redisUrl(value: string, bad: (what: string) => ConfigError): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw bad('a Redis URL such as "redis://127.0.0.1:6379"');
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw bad('a Redis URL starting with "redis://" (or "rediss://" for TLS)');
  if (url.hostname === "") throw bad('a Redis URL with a host, such as "redis://127.0.0.1:6379"');
  if (url.pathname !== "" && url.pathname !== "/" && !/^\/\d{1,2}$/.test(url.pathname))
    throw bad('a Redis URL whose path is empty or a database number, such as "redis://127.0.0.1:6379/0"');
  return url.toString();
}

function validate(c: Config): void {
  if (c.maxElementBytes < 64 * 1024)
    throw new ConfigError(`--max-element-bytes must be at least 64KiB (got ${c.maxElementBytes}): a keyframe fragment is larger`);
  if (c.viewerBufferBytes < c.gopCacheBytes + 2 * 1024 * 1024) {
    throw new ConfigError(
      `--viewer-buffer-bytes (${c.viewerBufferBytes}) must be larger than --gop-cache-bytes (${c.gopCacheBytes}) plus 2MiB of room for live fragments, ` +
        "because a joining viewer is sent the whole GOP cache at once; raise it or lower the GOP cache",
    );
  }
  if (c.slowViewerMinLagBytes >= c.viewerBufferBytes) {
    throw new ConfigError(
      `--slow-viewer-min-lag-bytes (${c.slowViewerMinLagBytes}) must be below --viewer-buffer-bytes (${c.viewerBufferBytes}): skipping must come before closing`,
    );
  }
  if (c.viewerTotalBufferBytes < c.viewerBufferBytes) {
    throw new ConfigError(
      `--viewer-total-buffer-bytes (${c.viewerTotalBufferBytes}) must be at least --viewer-buffer-bytes (${c.viewerBufferBytes}): it is the budget of all viewers together`,
    );
  }
  if (c.maxViewerMessageBytes < 128) throw new ConfigError("--max-viewer-message-bytes must be at least 128 bytes");
  if (c.hlsPartMs < 50 || c.hlsPartMs > 5000) throw new ConfigError(`--hls-part-ms must be from 50 to 5000 (got ${c.hlsPartMs})`);
  if (c.hlsSegments < 3 || c.hlsSegments > 1000)
    throw new ConfigError(`--hls-segments must be from 3 to 1000 (got ${c.hlsSegments}): a live playlist lists at least three segments`);
  if (c.hlsMaxBytes < 1024 * 1024)
    throw new ConfigError(`--hls-max-bytes must be at least 1MiB (got ${c.hlsMaxBytes}): a segment in progress must fit`);
  const ingests = [{ port: c.ingestPort, stream: c.ingestStream }, ...c.extraIngests];
  const tcpPorts = [...ingests.map((i) => i.port), c.httpPort, c.rtmpPort ?? 0].filter((p) => p !== 0);
  const dupPort = tcpPorts.find((p, i) => tcpPorts.indexOf(p) !== i);
  if (dupPort !== undefined)
    throw new ConfigError(
      `TCP port ${dupPort} is used twice among --ingest-port, --ingest, --rtmp-port and --http-port; give each its own port`,
    );
  const udpPorts = c.udpIngests.map((i) => i.port).filter((p) => p !== 0);
  const dupUdp = udpPorts.find((p, i) => udpPorts.indexOf(p) !== i);
  if (dupUdp !== undefined) throw new ConfigError(`UDP port ${dupUdp} is given twice in --ingest-udp; give each stream its own port`);
  const names = [...ingests, ...c.udpIngests].map((i) => i.stream);
  const dupName = names.find((n, i) => names.indexOf(n) !== i);
  if (dupName)
    throw new ConfigError(
      `stream "${dupName}" is fed by two ingest ports (TCP or UDP); one stream has one publisher, so give each port its own stream name`,
    );
  if (c.recordDir !== "" && c.recordQueueBytes < 1024 * 1024)
    throw new ConfigError(`--record-queue-bytes must be at least 1MiB (got ${c.recordQueueBytes}): a keyframe fragment must fit`);
  if (c.clusterLeaseSeconds < 1 || c.clusterLeaseSeconds > 300) {
    throw new ConfigError(
      `--cluster-lease-seconds must be from 1 to 300 (got ${c.clusterLeaseSeconds}): it is renewed every third of it, and a crashed node's streams stay claimed that long`,
    );
  }
}

/** The `--help` text, listing every option with its environment variable and default. */
export function helpText(): string {
  const rows = OPTIONS.map(
    (o) => `  ${`${o.flag} <${o.kind}>`.padEnd(34)} ${o.help}\n  ${"".padEnd(34)} env ${o.env}, default ${o.default || "(none)"}`,
  );
  return [
    "Sluice: low-latency live video relay (fMP4/WebM over TCP in, WebSocket + MSE out).",
    "",
    "Usage: bun run src/main.ts [options]     (or: npm start -- [options])",
    "",
    "Options (flags override environment variables, which override defaults):",
    ...rows,
    "  --help                             print this help",
    "",
    "Publish:  ffmpeg -re -i input ... -f mp4 -movflags empty_moov+default_base_moof+frag_keyframe tcp://localhost:9090",
    "Watch:    http://localhost:8080/",
  ].join("\n");
}
