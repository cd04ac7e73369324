/**
 * One playing session of a stream URL: routes WebSocket messages to the media pipeline and turns
 * them into player states. It marks the connection healthy (backoff reset) once a stream's first
 * fragment was appended, reconnects when a playing stream sends nothing for 15 s, and while playing
 * reports its latency, stalls and frame counts to the server every few seconds.
 */

import type { ServerMessage } from "../../src/protocol/messages.ts";
import type { Cadence } from "./cadence.ts";
import { type CloseInfo, Connection } from "./connection.ts";
import type { LatencyMeter } from "./latency-meter.ts";
import type { LiveEdgeController } from "./live-edge.ts";
import { Pipeline } from "./pipeline.ts";
import { type FrameCounts, PlaybackReporter, reportInterval } from "./playback-report.ts";
import type { StatsMeter } from "./player-stats.ts";
import type { PlayerState } from "./state.ts";

/** A playing stream silent for this long is treated as a dead connection. */
const STALE_MS = 15_000;
/** How often the round trip to the server is measured (`ping` → `pong`). */
const PING_MS = 5000;

export interface SessionParts {
  video: HTMLVideoElement;
  cadence: Cadence;
  meter: LatencyMeter;
  edge: LiveEdgeController;
  stats: StatsMeter;
  /** Called on every state change (and detail change). */
  setState(state: PlayerState, detail: string): void;
  /** The target buffer latency in use (seconds), included in the reports when given. */
  target?(): number;
  /** How often to report playback to the server (ms): default 5000, at least 2000; 0 or less: never. */
  reportIntervalMs?: number;
}

export class Session {
  readonly pipeline: Pipeline;
  readonly connection: Connection;
  #state: PlayerState = "connecting";
  #stateSince = performance.now();
  #healthy = false;
  #lastPing = Number.NEGATIVE_INFINITY;
  readonly #reporter: PlaybackReporter;

  constructor(
    url: string,
    private readonly parts: SessionParts,
  ) {
    this.#reporter = new PlaybackReporter(reportInterval(parts.reportIntervalMs));
    this.pipeline = new Pipeline(parts.video, parts.cadence, parts.meter, parts.edge, {
      unsupported: (what) => this.#set("unsupported", what),
      fatal: (message) => this.#set("error", message),
      appended: () => {
        if (!this.#healthy) this.connection.markHealthy();
        this.#healthy = true;
      },
    });
    this.connection = new Connection(url, {
      open: () => {
        this.#set("connecting", "connected");
        this.#ping(performance.now());
        this.#reporter.opened(performance.now(), this.#frames());
      },
      message: (msg) => this.#onMessage(msg),
      binary: (data) => {
        parts.stats.received(data.byteLength, performance.now());
        this.pipeline.binary(data);
      },
      close: (info) => this.#onClose(info),
    });
  }

  start(): void {
    this.#set("connecting", "");
    this.parts.video.addEventListener("waiting", this.#onWaiting);
    this.connection.start();
  }

  stop(): void {
    this.parts.video.removeEventListener("waiting", this.#onWaiting);
    this.connection.stop();
    this.pipeline.destroy();
  }

  /**
   * Periodic check: a playing stream that went silent gets a fresh connection; the round trip is
   * measured; a due report is sent.
   */
  tick(now: number): void {
    if (now - this.#lastPing >= PING_MS) this.#ping(now);
    if (this.#state === "playing") {
      const report = this.#reporter.due(now, {
        latency: this.parts.meter.sample(),
        target: this.parts.target?.() ?? Number.NaN,
        frames: this.#frames(),
      });
      if (report) this.connection.send(report);
    }
    const silentFor = now - Math.max(this.#stateSince, this.parts.stats.lastFragmentMs || 0);
    if (this.#state === "playing" && silentFor > STALE_MS) {
      this.#stateSince = now;
      this.connection.reconnectNow();
    }
  }

  #onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case "waiting":
        return this.#set("waiting", "");
      case "stream":
        this.#healthy = false;
        if (this.pipeline.stream(msg)) this.#set("playing", msg.mime);
        return;
      case "ended":
        this.pipeline.ended();
        return this.#set("ended", "");
      case "skip":
        return this.pipeline.skip();
      case "error":
        return this.#set("error", msg.message);
      case "pong":
        return this.parts.stats.pong(msg.t, performance.now());
    }
  }

  #ping(now: number): void {
    this.#lastPing = now;
    this.connection.send({ type: "ping", t: now });
  }

  /** The buffer ran dry while live (not a seek, not before playback started): a stall. */
  readonly #onWaiting = (): void => {
    if (this.#state === "playing" && !this.parts.video.seeking && this.parts.edge.started) this.#reporter.stalled();
  };

  #frames(): FrameCounts | undefined {
    const q = this.parts.video.getVideoPlaybackQuality?.();
    return q && { dropped: q.droppedVideoFrames, decoded: q.totalVideoFrames };
  }

  #onClose(info: CloseInfo): void {
    const why = `${info.code}${info.reason ? `: ${info.reason}` : ""}`;
    if (info.willRetry) this.#set("connecting", `closed ${why}; retrying in ${(info.retryInMs / 1000).toFixed(1)} s`);
    else this.#set("error", `connection refused (${why})`);
  }

  #set(state: PlayerState, detail: string): void {
    if (state !== this.#state) this.#stateSince = performance.now();
    this.#state = state;
    this.parts.setState(state, detail);
  }
}
