import { resolve } from "node:path";
import type { Config } from "./config.ts";
import { listenTcpIngest } from "./ingest/tcp.ts";
import { createLogger, type Logger } from "./log.ts";
import { bundlePlayer } from "./server/player-bundle.ts";
import { startHttpServer } from "./server/http-server.ts";
import { StreamRegistry } from "./stream/registry.ts";

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

/** Wires the layers: TCP ingest → publisher sessions → stream state → WebSocket fan-out. */
export async function startSluice(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Sluice> {
  const staticDir = resolve(ROOT, config.staticDir);
  const playerJs = await bundlePlayer(staticDir);
  const registry = new StreamRegistry(config.gopCacheBytes);
  const { server, fanout } = startHttpServer(
    {
      hostname: config.httpHost, port: config.httpPort, defaultStream: config.ingestStream, staticDir, playerJs,
      viewerBufferBytes: config.viewerBufferBytes, maxViewerMessageBytes: config.maxViewerMessageBytes,
    },
    registry, log,
  );
  const deps = { registry, sink: fanout, log, parser: { maxElementBytes: config.maxElementBytes } };
  const ingests: Array<ReturnType<typeof listenTcpIngest>> = [];
  try {
    for (const { port, stream } of [{ port: config.ingestPort, stream: config.ingestStream }, ...config.extraIngests]) {
      const listener = listenTcpIngest({ hostname: config.ingestHost, port, stream, idleSeconds: config.publisherIdleSeconds }, deps);
      ingests.push(listener);
      log.info("ingest-listening", { address: `${config.ingestHost}:${listener.port}`, stream });
    }
  } catch (e) {
    for (const l of ingests) l.stop();
    server.stop(true);
    throw e;
  }
  log.info("http-listening", { address: `${config.httpHost}:${server.port}` });
  return {
    httpPort: server.port!,
    ingestPort: ingests[0]!.port,
    ingestPorts: Object.fromEntries(ingests.map((l, i) => [i === 0 ? config.ingestStream : config.extraIngests[i - 1]!.stream, l.port])),
    registry,
    async stop() {
      for (const l of ingests) l.stop();
      for (const s of registry.all()) if (s.live) fanout.ended(s);
      await server.stop(true);
    },
  };
}
