import { streamJson } from "../server/stream-json.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { Stream } from "../stream/stream.ts";
import type { RedisLink } from "./redis-link.ts";
import { INFO_PATTERN, infoKey, nameOfInfoKey } from "./wire.ts";

/**
 * `/api/streams` in cluster mode: this node's streams merged with the streams live on other nodes
 * (their `sluice:info:<name>` JSON, written by the publishing node with the lease's TTL). Every entry
 * gets `node`: the node publishing it (null when not live). A stream live here (published here or fed
 * from the bus) is shown with this node's counters; a stream live only elsewhere as its publishing
 * node last wrote it (its counters, `updatedAt`). Without Redis, the local streams are shown.
 */
export type StreamJson = Record<string, unknown>;

/** Most info keys read per request (SCAN pages of `SCAN_COUNT`). */
const MAX_CLUSTER_STREAMS = 2000;
const SCAN_COUNT = 200;

export interface StreamsView {
  list(): Promise<StreamJson[]>;
  one(name: string): Promise<StreamJson | undefined>;
}

export function createStreamsView(link: RedisLink, registry: StreamRegistry, nodeId: string, sourceOf: (name: string) => string | undefined): StreamsView {
  const local = (s: Stream): StreamJson => ({ ...streamJson(s), node: s.live ? (sourceOf(s.name) ?? nodeId) : null });
  const parse = (raw: string | null): StreamJson | undefined => {
    if (!raw) return undefined;
    try {
      const j = JSON.parse(raw) as unknown;
      return j && typeof j === "object" && typeof (j as StreamJson).name === "string" ? (j as StreamJson) : undefined;
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
          const info = parse(raw);
          const name = nameOfInfoKey(keys[i]!);
          const mine = out.get(name);
          if (!info || info.name !== name || mine?.live) return;
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
      const info = parse(await link.cmd.get(infoKey(name)).catch(() => null));
      if (info && info.name === name) return info;
      return s ? local(s) : undefined;
    },
  };
}
