import { resolve } from "node:path";
import type { Cluster } from "./cluster/index.ts";
import type { Config } from "./config.ts";
import { IngestGate } from "./ingest/gate.ts";
import type { ActiveSession, SessionDeps } from "./ingest/publisher-session.ts";
import { listenTcpIngest, type TcpIngest } from "./ingest/tcp.ts";
import { createLogger, type Logger } from "./log.ts";
import { topicOf } from "./server/fanout.ts";
import { type HttpServer, startHttpServer } from "./server/http-server.ts";
import { bundlePlayer } from "./server/player-bundle.ts";
import { StreamRegistry } from "./stream/registry.ts";
import { ServerCounters } from "./stream/server-counters.ts";

/** A running Sluice: the bound ports, the stream registry, and a way to stop it. */
export interface Sluice {
  httpPort: number;
  /** The main ingest port (feeds `config.ingestStream`). */
  ingestPort: number;
  /** Every ingest port by the stream it feeds. */
  ingestPorts: Record<string, number>;
  registry: StreamRegistry;
  /** Stops accepting, tells viewers `ended`, closes everything. */
  stop(): Promise<void>;
}

const ROOT = resolve(import.meta.dir, "..");

/** Wires the layers: ingest (TCP, HTTP) → publisher sessions → stream state → WebSocket fan-out. */
export async function startSluice(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Sluice> {
  const staticDir = resolve(ROOT, config.staticDir);
  const playerJs = await bundlePlayer(staticDir);
  const registry = new StreamRegistry(config.gopCacheBytes, config.idleStreamsKept);
  const counters = new ServerCounters();
  const gate = new IngestGate(config.maxIngestPerAddress);
  // Cluster mode only: the Redis code is loaded (and connections made) only with --redis.
  const cluster: Cluster | undefined = config.redis
    ? await (await import("./cluster/index.ts")).startCluster({ redisUrl: config.redis, leaseMs: config.clusterLeaseSeconds * 1000, registry, log })
    : undefined;
  let sessionDeps!: SessionDeps;
  let httpServer: HttpServer | undefined;
  const http = startHttpServer(
    {
      hostname: config.httpHost, port: config.httpPort, maxViewerMessageBytes: config.maxViewerMessageBytes,
      slowViewers: {
        lagSeconds: config.slowViewerLagSeconds, minLagBytes: config.slowViewerMinLagBytes, hardLimitBytes: config.viewerBufferBytes,
        totalBudgetBytes: config.viewerTotalBufferBytes,
      },
    },
    log,
    (sink) => {
      cluster?.attach(sink, (name, text) => void httpServer?.server.publish(topicOf(name), text));
      sessionDeps = {
        registry, sink: cluster ? cluster.wrapSink(sink) : sink, log, counters, parser: { maxElementBytes: config.maxElementBytes },
        maxPublishers: config.maxPublishers, takeover: config.publisherTakeover, sessions: new Map<string, ActiveSession>(),
        cluster: cluster?.claims,
      };
      return {
        registry, counters, log, staticDir, playerJs, defaultStream: config.ingestStream,
        access: config,
        limits: config, pageSrcOrigins: config.pageSrcOrigins,
        ingest: { deps: sessionDeps, gate, idleSeconds: config.publisherIdleSeconds },
        cluster: cluster?.routes,
      };
    },
  );
  httpServer = http;
  const ingests: TcpIngest[] = [];
  const feeds = [{ port: config.ingestPort, stream: config.ingestStream }, ...config.extraIngests];
  try {
    for (const { port, stream } of feeds) {
      const listener = listenTcpIngest(
        { hostname: config.ingestHost, port, stream, idleSeconds: config.publisherIdleSeconds, allow: config.ingestAllow },
        sessionDeps, gate,
      );
      ingests.push(listener);
      log.info("ingest-listening", { address: `${config.ingestHost}:${listener.port}`, stream });
    }
  } catch (e) {
    for (const l of ingests) l.stop();
    await http.stop();
    await cluster?.stop();
    throw e;
  }
  log.info("http-listening", { address: `${config.httpHost}:${http.server.port}` });
  return {
    httpPort: http.server.port!,
    ingestPort: ingests[0]!.port,
    ingestPorts: Object.fromEntries(feeds.map((f, i) => [f.stream, ingests[i]!.port])),
    registry,
    async stop() {
      // Stop accepting publishers, end every stream (viewers get `ended`), then close viewers with 1001.
      for (const l of ingests) l.stop();
      for (const { session } of [...sessionDeps.sessions.values()]) session.close({ reason: "shutdown", message: "the server is shutting down" });
      await http.stop();
      await cluster?.stop();
    },
  };
}
