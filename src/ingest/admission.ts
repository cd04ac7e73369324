import { ipAllowed } from "../access/cidr.ts";
import { constantTimeEqual } from "../access/secrets.ts";
import { type Config, STREAM_NAME_RE } from "../config.ts";
import { createSniffingParser, type SniffingParser } from "../container/index.ts";
import type { Logger } from "../log.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { ServerCounters } from "../stream/server-counters.ts";
import type { StreamSink } from "../stream/sink.ts";
import { IngestGate } from "./gate.ts";
import { openPublisherSession, type PublisherSession, type SessionDeps } from "./publisher-session.ts";

/** Why a publisher was refused: a fixed vocabulary (logged, counted as a metric label, mapped to answers by each transport). */
export type RefusalReason =
  | "invalid-name"
  | "missing-key"
  | "bad-key"
  | "address-not-allowed"
  | "too-many-from-address"
  | "too-many-publishers"
  | "stream-busy"
  | "stream-busy-in-cluster"
  | "admission-buffer-full";

/** A refused publisher (already logged and counted when it comes out of `PublisherAdmission`). */
export interface Refusal {
  refused: RefusalReason;
  message: string;
}

/** A stream claimed cluster-wide for one local publisher; released exactly once when the session ends. */
export interface ClusterLease {
  release(): void;
}

/**
 * Cluster-wide one-publisher-per-stream (implemented by src/cluster). `acquire` resolves with a lease,
 * or with a refusal when another node publishes `name`; it never rejects (Redis trouble = a local lease).
 */
export interface ClusterClaims {
  acquire(name: string, remote: string): Promise<ClusterLease | Refusal>;
}

/** Who asks to publish, as the transport knows it. */
export interface PublishRequest {
  stream: string;
  /** The client address (behind a trusted proxy: the forwarded client), for the allowlist and the per-address gate. */
  address: string;
  /** `address:port`, for logs. */
  remote: string;
  /**
   * The key the publisher presented (HTTP: `?key=` or `Authorization: Bearer`). `undefined` for a
   * transport that cannot carry one (raw TCP): then only the address allowlist applies.
   */
  key?: string;
  /** Whether the transport can carry a key at all: a keyed stream is refused over one that cannot. */
  keyed: boolean;
  /**
   * What turns the transport's bytes into init/fragment events; default a sniffing parser (fMP4, WebM,
   * MPEG-TS). RTMP brings its own: the protocol connection and its remuxer.
   */
  parser?: SniffingParser;
  /** A connectionless transport (UDP): the idle timeout is how its stream ends, and it ends in order. */
  silenceEnds?: boolean;
}

export type AdmissionConfig = Pick<
  Config,
  | "publishKey"
  | "streamKeys"
  | "ingestAllow"
  | "maxIngestPerAddress"
  | "maxPublishers"
  | "publisherTakeover"
  | "maxElementBytes"
  | "remuxFragment"
>;

export interface AdmissionDeps {
  registry: StreamRegistry;
  sink: StreamSink;
  log: Logger;
  counters: ServerCounters;
  /** Cluster mode only. */
  cluster?: ClusterClaims;
}

/**
 * The one admission path for publishers, whatever the transport (TCP, HTTP, and the ingest protocols
 * to come): stream name, key or address range, the per-address gate, the publisher limit and the
 * one-publisher-per-stream rule (or takeover), the cluster lease, and the report of every refusal (one
 * log line, one counter). Transports only translate a `Refusal` into their own answer and pump bytes
 * into the `PublisherSession` they get.
 *
 * The per-address gate slot taken here is held for the session's lifetime and given back when the
 * session closes (or at once on a refusal).
 */
export class PublisherAdmission {
  readonly gate: IngestGate;
  private readonly cfg: AdmissionConfig;
  private readonly deps: AdmissionDeps;
  /** Live sessions by stream name, with the transport's way to drop each. */
  private readonly sessions = new Map<string, { session: PublisherSession; disconnect: () => void; silenceEnds: boolean }>();

  constructor(cfg: AdmissionConfig, deps: AdmissionDeps) {
    this.cfg = cfg;
    this.deps = deps;
    this.gate = new IngestGate(cfg.maxIngestPerAddress);
  }

  /**
   * Admits `req` and opens its session, or refuses it (logged and counted). `disconnect` must close the
   * transport's connection: it is called when the session ends from this side (a takeover, idle timeout,
   * shutdown). Never rejects. In cluster mode it waits for the lease (a Redis round trip): the transport
   * holds the publisher's first bytes meanwhile.
   */
  async admit(req: PublishRequest, disconnect: () => void): Promise<PublisherSession | Refusal> {
    const early = this.check(req);
    if (early) return this.refuse(req, early);
    const lease = this.deps.cluster ? await this.deps.cluster.acquire(req.stream, req.remote) : undefined;
    if (lease && "refused" in lease) {
      this.gate.release(req.address);
      return this.refuse(req, lease);
    }
    // Checked again after the wait: another local publisher may have come first.
    const busy = this.checkLocal(req, true);
    if (busy) {
      lease?.release();
      this.gate.release(req.address);
      return this.refuse(req, busy);
    }
    const current = this.sessions.get(req.stream);
    if (current) {
      this.deps.log.info("publisher-takeover", { stream: req.stream, remote: req.remote });
      current.session.close({ reason: "taken-over", message: `replaced by a new publisher from ${req.remote}` });
      current.disconnect();
    }
    const session = openPublisherSession(req.stream, req.remote, this.sessionDeps(req.parser), () => {
      if (this.sessions.get(req.stream)?.session === session) this.sessions.delete(req.stream);
      lease?.release();
      this.gate.release(req.address);
    });
    this.sessions.set(req.stream, { session, disconnect, silenceEnds: req.silenceEnds === true });
    return session;
  }

  /** Ends every session (shutdown): viewers get `ended`, transports are told to disconnect. */
  closeAll(why: { reason: string; message: string }): void {
    for (const { session, disconnect } of [...this.sessions.values()]) {
      session.close(why);
      disconnect();
    }
  }

  /** Ends `stream`'s session if it has been silent since `before` (performance.now() ms); true when it did. */
  closeIfIdle(stream: string, before: number, seconds: number): boolean {
    const s = this.sessions.get(stream);
    if (!s || s.session.lastDataAt >= before) return false;
    // A connectionless publisher (UDP) ends by falling silent: an orderly end, not an error.
    if (s.silenceEnds) s.session.close();
    else s.session.close({ reason: "idle-timeout", message: `no data for ${seconds} s` });
    s.disconnect();
    return true;
  }

  /** Names of the streams with a local publisher. */
  streams(): string[] {
    return [...this.sessions.keys()];
  }

  /** Name, credentials, gate, then the local limits; takes the gate slot when it returns undefined. */
  private check(req: PublishRequest): Refusal | undefined {
    if (!STREAM_NAME_RE.test(req.stream))
      return { refused: "invalid-name", message: "invalid stream name: use 1-64 letters, digits, _ or -" };
    const credentials = this.checkCredentials(req);
    if (credentials) return credentials;
    const local = this.checkLocal(req, false);
    if (local) return local;
    if (!this.gate.admit(req.address)) {
      return {
        refused: "too-many-from-address",
        message: `${req.address} already has ${this.gate.maxPerAddress} ingest connections (--max-ingest-per-address)`,
      };
    }
    return undefined;
  }

  /**
   * When a key applies (the stream's own or the global one), a transport that carries keys must present
   * one of them: missing → `missing-key`, wrong → `bad-key`. Otherwise (no key applies, or a raw TCP
   * publisher, which cannot carry one) the address must be in the ingest allowlist.
   */
  private checkCredentials(req: PublishRequest): Refusal | undefined {
    // A Map, never a plain object: a name such as `__proto__` or `constructor` must not find an inherited value (issue 10).
    const keys = [this.cfg.streamKeys.get(req.stream), this.cfg.publishKey].filter((k): k is string => typeof k === "string" && k !== "");
    if (req.keyed && keys.length > 0) {
      if (!req.key) return { refused: "missing-key", message: "a publish key is required (?key= or Authorization: Bearer)" };
      // Compare against every key so the time taken does not reveal which one nearly matched.
      const matches = keys.map((k) => constantTimeEqual(k, req.key!));
      return matches.includes(true) ? undefined : { refused: "bad-key", message: "wrong publish key" };
    }
    if (ipAllowed(req.address, this.cfg.ingestAllow)) return undefined;
    return {
      refused: "address-not-allowed",
      message: `${req.address} may not publish ${req.keyed ? "without a key (--ingest-allow, --publish-key)" : "here (--ingest-allow)"}`,
    };
  }

  /**
   * One publisher per stream (unless takeover), and --max-publishers local sessions. `settled`: after the
   * cluster lease, when a stream still fed from elsewhere is busy too (before it, the lease decides).
   */
  private checkLocal(req: PublishRequest, settled: boolean): Refusal | undefined {
    const current = this.sessions.get(req.stream);
    const ownedElsewhere = settled && !current && this.deps.registry.get(req.stream)?.publisher !== undefined;
    if ((current && !this.cfg.publisherTakeover) || ownedElsewhere)
      return { refused: "stream-busy", message: `stream "${req.stream}" already has a publisher` };
    // Local publisher sessions only: streams fed from the cluster bus are not this node's publishers (issue 10).
    if (!current && this.sessions.size >= this.cfg.maxPublishers) {
      return { refused: "too-many-publishers", message: `the server already has ${this.cfg.maxPublishers} publishers (--max-publishers)` };
    }
    return undefined;
  }

  private refuse(req: PublishRequest, r: Refusal): Refusal {
    reportRefusal(this.deps, req.stream, req.remote, r.refused, r.message);
    return r;
  }

  private sessionDeps(parser: SniffingParser | undefined): SessionDeps {
    const { registry, sink, log, counters } = this.deps;
    const options = { maxElementBytes: this.cfg.maxElementBytes, remuxFragment: this.cfg.remuxFragment };
    return { registry, sink, log, counters, parser: parser ?? createSniffingParser(options) };
  }
}

/** Logs and counts a refused publisher: the one place refusals are reported. */
function reportRefusal(
  deps: Pick<AdmissionDeps, "log" | "counters">,
  stream: string,
  remote: string,
  reason: string,
  message: string,
): void {
  deps.log.warn("publisher-refused", { stream, remote, reason, message });
  deps.counters.reject("ingest", reason);
}
