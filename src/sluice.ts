import { resolve } from "node:path";
import type { Cluster } from "./cluster/index.ts";
import type { Config } from "./config.ts";
import { HlsViews } from "./hls/hls-views.ts";
import { PublisherAdmission } from "./ingest/admission.ts";
import { startIdleWatchdog } from "./ingest/idle-watchdog.ts";
import { listenRtmpIngest, type RtmpIngest } from "./ingest/rtmp-listener.ts";
import { listenTcpIngest, type TcpIngest } from "./ingest/tcp.ts";
import { listenUdpIngest, type UdpIngest } from "./ingest/udp.ts";
import { createLogger, type Logger } from "./log.ts";
import { createRecorder, type Recorder } from "./record/recorder.ts";
import { createFanout } from "./server/fanout.ts";
import { createHlsRoutes } from "./server/hls-routes.ts";
import { startHttpServer } from "./server/http-server.ts";
import { bundlePlayer } from "./server/player-bundle.ts";
import { StreamRegistry } from "./stream/registry.ts";
import { ServerCounters } from "./stream/server-counters.ts";
import { type NamedView, teeSinks } from "./stream/sink.ts";

/** A running Sluice: the bound ports, the stream registry, and a way to stop it. */
export interface Sluice {
  httpPort: number;
  /** The main ingest port (feeds `config.ingestStream`). */
  ingestPort: number;
  /** Every ingest port by the stream it feeds. */
  ingestPorts: Record<string, number>;
  /** The RTMP port, when RTMP ingest is on. */
  rtmpPort: number | undefined;
  /** UDP MPEG-TS ingest ports by the stream they feed. */
  udpPorts: ReadonlyMap<string, number>;
  registry: StreamRegistry;
  /** With --record: the recorder (files, retention, counters). */
  recorder: Recorder | undefined;
  /** Stops accepting, tells viewers `ended`, closes everything. */
  stop(): Promise<void>;
}

const ROOT = resolve(import.meta.dir, "..");

/**
 * Wires the layers, each built before what depends on it: stream state → the WebSocket fan-out (the
 * sink every stream change goes to) → cluster mode (feeds the fan-out from the bus, wraps it to publish
 * local streams) → publisher admission → the HTTP server and the ingest listeners (TCP, UDP, RTMP).
 */
export async function startSluice(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Sluice> {
  const staticDir = resolve(ROOT, config.staticDir);
  const playerJs = await bundlePlayer(staticDir);
  const registry = new StreamRegistry(config.gopCacheBytes, config.idleStreamsKept);
  const counters = new ServerCounters();
  const fanout = createFanout(config, log);
  // Views that follow every stream change after the WebSocket fan-out (LL-HLS, recording).
  const views: NamedView[] = [];
  const hls = config.hls
    ? new HlsViews({
        partTarget: config.hlsPartMs / 1000,
        segments: config.hlsSegments,
        maxBytes: config.hlsMaxBytes,
        endedKeepMs: config.hlsEndedSeconds * 1000,
        log: (event, fields) => log.info(event, fields),
      })
    : undefined;
  if (hls) views.push({ name: "hls", sink: hls });
  const recorder = config.recordDir ? createRecorder(config, log) : undefined;
  if (recorder) views.push({ name: "recording", sink: recorder });
  const viewFailed = (view: string, stream: { name: string }, e: unknown) => {
    counters.viewError(view);
    log.warn("view-failed", { stream: stream.name, view, message: e instanceof Error ? e.message : String(e) });
  };
  const local = teeSinks(fanout, views, viewFailed);
  // Cluster mode only: the Redis code is loaded (and connections made) only with --redis.
  const cluster: Cluster | undefined = config.redis
    ? await (await import("./cluster/index.ts")).startCluster({
        redis: config.redis,
        clusterLeaseSeconds: config.clusterLeaseSeconds,
        registry,
        log,
      })
    : undefined;
  const admission = new PublisherAdmission(config, {
    registry,
    sink: cluster ? cluster.wrapSink(local) : local,
    log,
    counters,
    cluster: cluster?.claims,
  });
  const http = startHttpServer(config, {
    registry,
    counters,
    log,
    config,
    staticDir,
    playerJs,
    admission,
    fanout,
    cluster: cluster?.routes,
    hls: createHlsRoutes({ views: hls, config, log }),
    recorder,
  });
  // Streams followed from another node (only while they have viewers here) are recorded by their
  // publishing node, not again here: followers get the fan-out and LL-HLS only.
  cluster?.attach(teeSinks(fanout, hls ? [{ name: "hls", sink: hls }] : [], viewFailed));
  const stopWatchdog = startIdleWatchdog(admission, config.publisherIdleSeconds);
  const ingests: TcpIngest[] = [];
  const udp: UdpIngest[] = [];
  let rtmp: RtmpIngest | undefined;
  const feeds = [{ port: config.ingestPort, stream: config.ingestStream }, ...config.extraIngests];
  try {
    for (const { port, stream } of feeds) {
      const listener = listenTcpIngest({ hostname: config.ingestHost, port, stream }, admission);
      ingests.push(listener);
      log.info("ingest-listening", { address: `${config.ingestHost}:${listener.port}`, stream });
    }
    for (const { port, stream } of config.udpIngests) {
      const ignored = (remote: string) => log.warn("udp-source-ignored", { stream, remote, reason: "another source is publishing" });
      const listener = await listenUdpIngest({ hostname: config.ingestHost, port, stream }, admission, ignored);
      udp.push(listener);
      log.info("udp-ingest-listening", { address: `${config.ingestHost}:${listener.port}`, stream });
    }
    if (config.rtmpPort !== null) {
      rtmp = listenRtmpIngest({ hostname: config.rtmpHost, port: config.rtmpPort }, config, admission, log);
      log.info("rtmp-listening", { address: `${config.rtmpHost}:${rtmp.port}` });
    }
  } catch (e) {
    for (const l of ingests) l.stop();
    for (const l of udp) l.stop();
    rtmp?.stop();
    stopWatchdog();
    await http.stop();
    await cluster?.stop();
    await recorder?.stop();
    hls?.close();
    throw e;
  }
  log.info("http-listening", { address: `${config.httpHost}:${http.server.port}` });
  return {
    httpPort: http.server.port!,
    ingestPort: ingests[0]!.port,
    ingestPorts: Object.fromEntries(feeds.map((f, i) => [f.stream, ingests[i]!.port])),
    rtmpPort: rtmp?.port,
    udpPorts: new Map(config.udpIngests.map((f, i) => [f.stream, udp[i]!.port])),
    registry,
    recorder,
    async stop() {
      // Stop accepting publishers, end every stream (viewers get `ended`), then close viewers with 1001.
      stopWatchdog();
      for (const l of ingests) l.stop();
      for (const l of udp) l.stop();
      rtmp?.stop();
      admission.closeAll({ reason: "shutdown", message: "the server is shutting down" });
      await http.stop();
      await cluster?.stop();
      await recorder?.stop();
      hls?.close();
    },
  };
}
