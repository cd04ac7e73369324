import { hostname } from "node:os";
import type { Config } from "../config.ts";
import type { ClusterClaims, ClusterLease } from "../ingest/admission.ts";
import type { Logger } from "../log.ts";
import type { ClusterRoutes } from "../server/app.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { StreamSink } from "../stream/sink.ts";
import { createBusOut } from "./bus-out.ts";
import { createFollower, type Follower } from "./follower.ts";
import { createGuard } from "./guard.ts";
import { createLeases } from "./leases.ts";
import { connectRedis } from "./redis-link.ts";
import { createStreamsView } from "./streams-view.ts";

/**
 * Cluster mode (`--redis`): N Sluice nodes share one Redis. Loaded only when `--redis` is given (the
 * single node never imports this folder). Wiring, in sluice.ts:
 * - `claims` → `SessionDeps.cluster`: one publisher per stream cluster-wide (leases.ts);
 * - `wrapSink(fanout)` → `SessionDeps.sink`: local publishers' events also go to the bus (bus-out.ts);
 * - `attach(fanout)`: streams published elsewhere are fed from the bus into the registry and
 *   the fan-out (follower.ts);
 * - `routes` → `AppDeps.cluster`: follow before a viewer joins, cluster-wide `/api/streams`, `/healthz`.
 * One timer, every third of the lease, renews this node's leases and refreshes their keys; the
 * follower checks the leases of the streams it follows every quarter of the lease.
 *
 * Robustness: what comes from Redis is validated before use (wire.ts, streams-view.ts), and every
 * Redis event handler, timer body and bus-side sink call runs inside a guard (guard.ts), so neither a
 * malformed message nor an unexpected exception can end the process. `/healthz` shows the counts:
 * `busRejected` (malformed messages and init keys dropped), `followEvicted`, `errors` (contained).
 */
export interface Cluster {
  nodeId: string;
  claims: ClusterClaims;
  wrapSink(sink: StreamSink): StreamSink;
  attach(fanout: StreamSink): void;
  routes: ClusterRoutes;
  /** Stops the timers, lets released leases reach Redis (bounded), closes the connections. */
  stop(): Promise<void>;
}

/** The cluster's slice of the config, and what it works on. */
export interface ClusterOptions extends Pick<Config, "redis" | "clusterLeaseSeconds"> {
  registry: StreamRegistry;
  log: Logger;
  /** Most streams followed at once (follower.ts `MAX_FOLLOWED` unless given; tests lower it). */
  maxFollowed?: number;
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const { registry, log } = o;
  const leaseMs = o.clusterLeaseSeconds * 1000;
  const nodeId = `${
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, "")
      .slice(0, 40) || "node"
  }-${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16).padStart(8, "0")}`;
  const guard = createGuard(log, nodeId);
  const link = await connectRedis(o.redis, nodeId, log);
  const leases = createLeases(link, nodeId, leaseMs, log);
  const bus = createBusOut(link, nodeId, leases, leaseMs, log, guard);
  let follower: Follower | undefined;
  const view = createStreamsView(link, registry, nodeId, (name) => follower?.sourceOf(name));

  let renewing = false;
  const renew = async () => {
    if (renewing) return;
    renewing = true;
    try {
      for (const [name, outcome] of await leases.renewAll()) bus.renewed(name, outcome);
    } finally {
      renewing = false;
    }
  };
  let checking = false;
  const check = async () => {
    if (checking || !follower) return;
    checking = true;
    try {
      await follower.check();
    } finally {
      checking = false;
    }
  };
  const renewTimer = setInterval(() => void guard.settle("lease-renewal", undefined, renew), leaseMs / 3);
  const checkTimer = setInterval(() => void guard.settle("follow-check", undefined, check), leaseMs / 4);
  // Redis is back: re-assert leases and init keys at once, resubscribe and resync followed streams.
  link.onUp(() => {
    void guard.settle("lease-renewal", undefined, renew);
    guard.run("resubscribe", undefined, () => follower?.resubscribe());
  });
  log.info("cluster-joined", { node: nodeId, leaseSeconds: leaseMs / 1000, redis: link.up ? "up" : "down" });

  return {
    nodeId,
    claims: {
      async acquire(name) {
        const r = await leases.acquire(name);
        if (!r.ok) return { refused: "stream-busy-in-cluster", message: `stream "${name}" is published on node ${r.owner}` };
        guard.run("yield-to-local", name, () => follower?.yieldToLocal(name));
        let released = false;
        const lease: ClusterLease = {
          release() {
            if (released) return;
            released = true;
            leases.release(name);
          },
        };
        return lease;
      },
    },
    wrapSink: (sink) => bus.wrap(sink),
    attach(fanout) {
      follower = createFollower({ link, nodeId, registry, sink: fanout, log, guard, leaseMs, maxFollowed: o.maxFollowed });
    },
    routes: {
      beforeViewer: (name) => follower?.follow(name) ?? Promise.resolve(),
      streams: () => view.list(),
      stream: (name) => view.one(name),
      health: () => ({
        cluster: {
          node: nodeId,
          redis: link.up ? "up" : "down",
          followed: follower?.followed ?? 0,
          followEvicted: follower?.evicted ?? 0,
          busPublished: bus.published,
          busFailures: bus.failures,
          busRejected: follower?.rejected ?? 0,
          errors: guard.errors,
        },
      }),
    },
    async stop() {
      clearInterval(renewTimer);
      clearInterval(checkTimer);
      await link.close();
      log.info("cluster-left", { node: nodeId });
    },
  };
}
