import type { Logger } from "../log.ts";
import type { RedisLink } from "./redis-link.ts";
import { infoKey, initKey, leaseKey } from "./wire.ts";

/**
 * One publisher per stream across the cluster: the node that publishes `name` holds the Redis key
 * `sluice:lease:<name>` = its node id, set with `SET NX PX leaseMs`, renewed every third of the lease
 * with a compare-and-PEXPIRE script and released with a compare-and-DEL script (which also deletes the
 * stream's init and info keys). A crashed node's lease simply expires.
 *
 * Locally the lease is shared by every publisher session of the stream on this node (a refused second
 * publisher, a takeover): it is counted, and released in Redis when the last local holder lets go.
 *
 * States: `held` (Redis agrees), `unconfirmed` (granted while Redis was unreachable: degraded, the next
 * renewal asserts it), `conflict` (Redis came back and another node holds it: this node keeps serving
 * its local viewers but stops publishing the stream to the bus, and keeps trying).
 */
type LeaseState = "held" | "unconfirmed" | "conflict";
type AcquireResult = { ok: true } | { ok: false; owner: string };
/** A renewal's outcome for one stream: `asserted` = Redis had lost the key and it was set again. */
export type RenewOutcome = "renewed" | "asserted" | "conflict" | "failed";

export interface Leases {
  /** Never rejects: Redis trouble grants an `unconfirmed` lease (logged). */
  acquire(name: string): Promise<AcquireResult>;
  release(name: string): void;
  state(name: string): LeaseState | undefined;
  /** Renews every lease once; the outcomes by stream. */
  renewAll(): Promise<Map<string, RenewOutcome>>;
}

/** Compare-and-PEXPIRE; sets the lease again when Redis lost it (a restart): 1 renewed, 2 set again, 0 other owner. */
const RENEW = `local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if cur == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0`;
/** Compare-and-DEL of the lease, with the stream's init and info keys. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return 0`;

interface Entry {
  holders: number;
  state: LeaseState;
  /** The first acquisition, shared by concurrent ones. */
  settled: Promise<AcquireResult>;
}

export function createLeases(link: RedisLink, nodeId: string, leaseMs: number, log: Logger): Leases {
  const entries = new Map<string, Entry>();
  const claim = async (name: string, entry: Entry): Promise<AcquireResult> => {
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        if ((await link.cmd.set(leaseKey(name), nodeId, "PX", leaseMs, "NX")) === "OK") return { ok: true };
        const owner = await link.cmd.get(leaseKey(name));
        if (owner === nodeId) return { ok: true };
        if (owner !== null) return { ok: false, owner };
        // expired in between: try once more
      }
      return { ok: false, owner: "unknown" };
    } catch (e) {
      entry.state = "unconfirmed";
      log.warn("cluster-lease-degraded", {
        stream: name,
        node: nodeId,
        error: (e as Error).message,
        message: "Redis unreachable: publisher accepted locally",
      });
      return { ok: true };
    }
  };
  return {
    async acquire(name) {
      let entry = entries.get(name);
      if (!entry) {
        const e: Entry = { holders: 0, state: "held", settled: Promise.resolve({ ok: true }) };
        e.settled = claim(name, e);
        entries.set(name, e);
        entry = e;
      }
      const result = await entry.settled;
      if (!result.ok) {
        if (entries.get(name) === entry && entry.holders === 0) entries.delete(name);
        return result;
      }
      entry.holders++;
      return result;
    },
    release(name) {
      const entry = entries.get(name);
      if (!entry || --entry.holders > 0) return;
      entries.delete(name);
      // Fails at once while Redis is unreachable (no offline queue): the lease then expires by itself.
      link.cmd.eval(RELEASE, 3, leaseKey(name), initKey(name), infoKey(name), nodeId).catch(() => {});
    },
    state: (name) => entries.get(name)?.state,
    async renewAll() {
      const out = new Map<string, RenewOutcome>();
      await Promise.all(
        [...entries]
          .filter(([, e]) => e.holders > 0)
          .map(async ([name, entry]) => {
            let outcome: RenewOutcome;
            try {
              const r = await link.cmd.eval(RENEW, 1, leaseKey(name), nodeId, leaseMs);
              outcome = r === 1 ? "renewed" : r === 2 ? "asserted" : "conflict";
            } catch {
              out.set(name, "failed");
              return;
            }
            if (entries.get(name) !== entry) return; // released meanwhile
            const before = entry.state;
            entry.state = outcome === "conflict" ? "conflict" : "held";
            if (outcome === "conflict" && before !== "conflict") {
              const owner = await link.cmd.get(leaseKey(name)).catch(() => null);
              log.warn("cluster-lease-conflict", {
                stream: name,
                node: nodeId,
                owner: owner ?? undefined,
                message: "another node publishes this stream: serving local viewers only, not the cluster",
              });
            } else if (outcome !== "conflict" && before === "conflict") log.info("cluster-lease-regained", { stream: name, node: nodeId });
            else if (outcome === "asserted") log.info("cluster-lease-reasserted", { stream: name, node: nodeId });
            out.set(name, outcome);
          }),
      );
      return out;
    },
  };
}
