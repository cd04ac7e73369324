import Redis from "ioredis";
import type { Logger } from "../log.ts";

/**
 * The node's two Redis connections (ioredis: binary-safe values and pub/sub messages as Buffers):
 * `cmd` for commands and PUBLISH, `sub` for SUBSCRIBE (a subscribed connection takes no other
 * commands). Contracts:
 * - Nothing queues while Redis is unreachable: `enableOfflineQueue: false`, no resend of unanswered
 *   commands, so a command fails at once instead of buffering without bound; `cmd` commands also time
 *   out after `COMMAND_TIMEOUT_MS`.
 * - Both reconnect forever with a capped backoff (`RETRY_CAP_MS`).
 * - Every 'error' event is handled (an unhandled one would crash the process); the node logs
 *   `cluster-redis-down` once when it loses Redis and `cluster-redis-up` once when both connections
 *   are ready again, and calls the `onUp` listeners then (to re-assert leases, resubscribe, resync).
 */
export interface RedisLink {
  readonly cmd: Redis;
  readonly sub: Redis;
  /** Both connections are ready. */
  readonly up: boolean;
  /** Wall time (ms) the link last came back after losing Redis (0: never lost). */
  readonly recoveredAt: number;
  onUp(listener: () => void): void;
  /** Flushes what `cmd` has sent (bounded wait), then closes both connections. */
  close(): Promise<void>;
}

const COMMAND_TIMEOUT_MS = 1000;
export const RETRY_CAP_MS = 2000;
const CONNECT_TIMEOUT_MS = 2000;
/** How long start waits for Redis before going on degraded. */
const START_WAIT_MS = 3000;

/** Connects both clients; resolves once both are ready or `START_WAIT_MS` passed (then the node starts degraded). */
export async function connectRedis(url: string, nodeId: string, log: Logger): Promise<RedisLink> {
  const shown = redact(url);
  const options = {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), RETRY_CAP_MS),
  };
  const cmd = new Redis(url, { ...options, commandTimeout: COMMAND_TIMEOUT_MS, connectionName: `sluice-${nodeId}-cmd` });
  // Resubscription is the follower's job (on `onUp`), so channels subscribed while Redis was away are not lost.
  const sub = new Redis(url, { ...options, autoResubscribe: false, connectionName: `sluice-${nodeId}-sub` });
  const listeners: Array<() => void> = [];
  let up = false;
  let upSince = 0;
  let recoveredAt = 0;
  let downSince = Date.now();
  let lastError = "";
  let everUp = false;
  let reportedDown = false;
  let closing = false;
  const update = () => {
    const now = cmd.status === "ready" && sub.status === "ready";
    if (now === up) return;
    up = now;
    if (up) {
      upSince = Date.now();
      if (reportedDown || everUp) recoveredAt = upSince;
      if (reportedDown || everUp)
        log.info("cluster-redis-up", { redis: shown, node: nodeId, downSeconds: Math.round((upSince - downSince) / 100) / 10 });
      else log.info("cluster-redis-connected", { redis: shown, node: nodeId });
      everUp = true;
      reportedDown = false;
      lastError = "";
      for (const l of listeners) l();
    } else if (!closing) {
      downSince = Date.now();
      reportedDown = true;
      log.warn("cluster-redis-down", {
        redis: shown,
        node: nodeId,
        error: lastError || "connection lost",
        message: "serving local publishers to local viewers only; reconnecting",
      });
    }
  };
  for (const c of [cmd, sub]) {
    c.on("error", (e: Error) => {
      lastError = e.message;
    });
    c.on("ready", update);
    c.on("close", update);
    c.on("end", update);
    c.on("reconnecting", update);
  }
  const ready = new Promise<void>((resolve) => {
    const check = () => (cmd.status === "ready" && sub.status === "ready" ? resolve() : undefined);
    cmd.on("ready", check);
    sub.on("ready", check);
    setTimeout(resolve, START_WAIT_MS);
  });
  await ready;
  if (!up) {
    reportedDown = true;
    log.warn("cluster-redis-down", {
      redis: shown,
      node: nodeId,
      error: lastError || "not connected yet",
      message: "starting degraded: local publishers and viewers work; reconnecting",
    });
  }
  return {
    cmd,
    sub,
    get up() {
      return up;
    },
    get recoveredAt() {
      return recoveredAt;
    },
    onUp: (l) => void listeners.push(l),
    async close() {
      closing = true;
      // QUIT answers after every command sent before it: the leases released at shutdown reach Redis.
      const quit = cmd.status === "ready" ? cmd.quit().catch(() => {}) : Promise.resolve();
      await Promise.race([quit, Bun.sleep(COMMAND_TIMEOUT_MS)]);
      cmd.disconnect();
      sub.disconnect();
    },
  };
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "redis";
  }
}
