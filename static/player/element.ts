/**
 * `<sluice-player>`: plays a Sluice live stream from its WebSocket with Media Source Extensions.
 *
 * Attributes: `src`, `stream`, `target-latency`, `muted`, `controls`, `stats` (see config.ts).
 * Properties: `state`, `stats`, `video`, `latency`, `latencyKind`, `targetLatency`, `src`.
 * Methods: `jumpToLive()`, `reconnect()`.
 * Events: `statechange` (detail `{state, message}`), `latency` (detail `{latency, kind}`, about
 * 4 times a second while a value is known).
 */

import { autoTargetLatency, Cadence } from "./cadence.ts";
import { CONFIG_ATTRIBUTES, readConfig, type PlayerConfig } from "./config.ts";
import { Connection, type CloseInfo } from "./connection.ts";
import { LatencyMeter, type LatencySample } from "./latency-meter.ts";
import { LiveEdgeController } from "./live-edge.ts";
import { mediaSourceClass } from "./mse-sink.ts";
import { Pipeline } from "./pipeline.ts";
import type { ServerMessage } from "./protocol.ts";
import { lastEnd } from "./ranges.ts";
import { stateText, type PlayerState, type StateChangeDetail } from "./state.ts";
import { formatStats, StatsMeter, type SluiceStats } from "./stats.ts";
import { PlayerView } from "./view.ts";

const TICK_MS = 250;
/** A playing stream silent for this long is treated as a dead connection. */
const STALE_MS = 15_000;

export class SluicePlayerElement extends HTMLElement {
  static get observedAttributes(): string[] {
    return [...CONFIG_ATTRIBUTES];
  }

  readonly #view: PlayerView;
  readonly #cadence = new Cadence();
  readonly #meter: LatencyMeter;
  readonly #edge: LiveEdgeController;
  #config: PlayerConfig | undefined;
  #conn: Connection | undefined;
  #pipeline: Pipeline | undefined;
  #statsMeter = new StatsMeter();
  #timer: ReturnType<typeof setInterval> | undefined;
  #state: PlayerState = "connecting";
  #detail = "";
  #stateSince = 0;
  #latency: LatencySample = { latency: Number.NaN, kind: "buffer" };
  #playPending = false;
  #healthy = false;

  constructor() {
    super();
    this.#view = new PlayerView(this.attachShadow({ mode: "open" }), {
      unmute: () => {
        this.video.muted = false;
        void this.video.play().catch(() => undefined);
      },
      toggleStats: () => this.#showStats(!this.#view.statsVisible),
    });
    const v = this.#view.video;
    this.#meter = new LatencyMeter(v);
    this.#edge = new LiveEdgeController(v, {
      target: () => this.targetLatency,
      interval: () => this.#cadence.intervalOr(0),
      sinceAppend: () => this.#cadence.sinceAppend(performance.now()),
      remove: (start, end) => this.#pipeline?.remove(start, end),
      play: () => this.#play(),
    });
    v.addEventListener("volumechange", () => this.#view.showUnmute(v.muted));
    v.addEventListener("error", () => {
      if (v.error) this.#pipeline?.mediaError(`media error ${v.error.code}: ${v.error.message}`);
    });
  }

  /** The state: "connecting" | "waiting" | "playing" | "ended" | "unsupported" | "error". */
  get state(): PlayerState {
    return this.#state;
  }

  /** The inner video element. */
  get video(): HTMLVideoElement {
    return this.#view.video;
  }

  /** Latest latency in seconds (NaN when unknown); see `latencyKind`. */
  get latency(): number {
    return this.#latency.latency;
  }

  /** "e2e" (publisher wallclock from fMP4 `prft` to display) or "buffer" (buffered end − currentTime). */
  get latencyKind(): LatencySample["kind"] {
    return this.#latency.kind;
  }

  /** Target mean buffer latency in seconds: the `target-latency` attribute, or automatic. */
  get targetLatency(): number {
    const t = this.#config?.targetLatency ?? Number.NaN;
    return Number.isNaN(t) ? autoTargetLatency(this.#cadence.interval) : t;
  }

  get src(): string {
    return this.#config?.src ?? readConfig(this).src;
  }

  set src(value: string) {
    this.setAttribute("src", value);
  }

  /** A fresh snapshot of the playback statistics. */
  get stats(): SluiceStats {
    const v = this.video;
    const q = v.getVideoPlaybackQuality?.();
    const end = lastEnd(v.buffered);
    const p = this.#pipeline;
    const m = this.#statsMeter;
    return {
      state: this.#state,
      mime: p?.mime ?? "",
      format: p?.format ?? "",
      width: v.videoWidth,
      height: v.videoHeight,
      fps: m.fps,
      bitrate: m.bitrate,
      latency: this.#latency.latency,
      latencyKind: this.#latency.kind,
      targetLatency: this.targetLatency,
      bufferLength: end === undefined ? 0 : Math.max(0, end - v.currentTime),
      playbackRate: v.playbackRate,
      droppedFrames: q?.droppedVideoFrames ?? 0,
      decodedFrames: q?.totalVideoFrames ?? 0,
      reconnects: this.#conn?.reconnects ?? 0,
      sinceLastFragment: (performance.now() - m.lastFragmentMs) / 1000,
      fragmentsReceived: m.fragmentsReceived,
      bytesReceived: m.bytesReceived,
      fragmentsDropped: p?.queue.dropped ?? 0,
      jumps: this.#edge.jumps,
      nudges: this.#edge.nudges,
      restarts: p?.restarts ?? 0,
      recreations: p?.recreations ?? 0,
      fragmentInterval: this.#cadence.interval,
    };
  }

  /** Seeks to the live edge now (if more than 0.2 s behind it). */
  jumpToLive(): void {
    this.#edge.jumpToEdge(performance.now());
  }

  /** Drops the connection and the media buffer and starts over. */
  reconnect(): void {
    this.#stop();
    this.#start();
  }

  connectedCallback(): void {
    this.#start();
  }

  disconnectedCallback(): void {
    this.#stop();
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (old === value || !this.isConnected || !this.#config) return;
    if (name === "src" || name === "stream") return this.reconnect();
    this.#applyConfig(readConfig(this), false);
  }

  #start(): void {
    const config = readConfig(this);
    this.#applyConfig(config, true);
    this.#statsMeter = new StatsMeter();
    this.#setState("connecting", "");
    if (!mediaSourceClass()) return this.#setState("unsupported", "this browser has no Media Source Extensions");
    this.#pipeline = new Pipeline(this.video, this.#cadence, this.#meter, this.#edge, {
      unsupported: (what) => this.#setState("unsupported", what),
      fatal: (message) => this.#setState("error", message),
      appended: () => {
        if (!this.#healthy) this.#conn?.markHealthy();
        this.#healthy = true;
      },
    });
    this.#conn = new Connection(config.src, {
      open: () => this.#setState("connecting", "connected"),
      message: (msg) => this.#onMessage(msg),
      binary: (data) => {
        this.#statsMeter.received(data.byteLength, performance.now());
        this.#pipeline?.binary(data);
      },
      close: (info) => this.#onClose(info),
    });
    this.#conn.start();
    this.#meter.start();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    document.addEventListener("visibilitychange", this.#onVisibility);
  }

  #stop(): void {
    clearInterval(this.#timer);
    document.removeEventListener("visibilitychange", this.#onVisibility);
    this.#conn?.stop();
    this.#conn = undefined;
    this.#pipeline?.destroy();
    this.#pipeline = undefined;
    this.#meter.stop();
    this.#meter.reset();
  }

  #applyConfig(config: PlayerConfig, initial: boolean): void {
    const previous = this.#config;
    this.#config = config;
    const v = this.video;
    if (initial || previous?.muted !== config.muted) v.muted = config.muted;
    v.controls = config.controls;
    this.#view.showUnmute(v.muted);
    if (initial || previous?.stats !== config.stats) this.#showStats(config.stats);
  }

  #onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case "waiting":
        return this.#setState("waiting", "");
      case "stream":
        this.#healthy = false;
        if (this.#pipeline?.stream(msg)) this.#setState("playing", msg.mime);
        return;
      case "ended":
        this.#pipeline?.ended();
        return this.#setState("ended", "");
      case "skip":
        return this.#pipeline?.skip();
      case "error":
        return this.#setState("error", msg.message);
    }
  }

  #onClose(info: CloseInfo): void {
    const why = `${info.code}${info.reason ? `: ${info.reason}` : ""}`;
    if (info.willRetry) this.#setState("connecting", `closed ${why}; retrying in ${(info.retryInMs / 1000).toFixed(1)} s`);
    else this.#setState("error", `connection refused (${why})`);
  }

  #setState(state: PlayerState, detail: string): void {
    const changed = state !== this.#state || detail !== this.#detail;
    if (state !== this.#state) this.#stateSince = performance.now();
    this.#state = state;
    this.#detail = detail;
    const text = stateText(state, detail);
    this.#view.setStatus(text, state === "playing" ? "badge" : state === "error" || state === "unsupported" ? "error" : "overlay");
    if (changed) this.dispatchEvent(new CustomEvent<StateChangeDetail>("statechange", { detail: { state, message: text } }));
  }

  #tick(): void {
    const now = performance.now();
    if (this.#pipeline) this.#edge.tick(now);
    this.#statsMeter.tick(now, this.video);
    this.#latency = this.#meter.sample();
    if (!Number.isNaN(this.#latency.latency)) this.dispatchEvent(new CustomEvent("latency", { detail: { ...this.#latency } }));
    if (this.#view.statsVisible) this.#view.renderStats(formatStats(this.stats));
    const silentFor = now - Math.max(this.#stateSince, this.#statsMeter.lastFragmentMs || 0);
    if (this.#state === "playing" && silentFor > STALE_MS) {
      this.#stateSince = now;
      this.#conn?.reconnectNow();
    }
  }

  #showStats(visible: boolean): void {
    this.#view.setStatsVisible(visible);
    if (visible) this.#view.renderStats(formatStats(this.stats));
  }

  #play(): void {
    const v = this.video;
    if (this.#playPending || !v.paused) return;
    this.#playPending = true;
    v.play()
      .catch((e: unknown) => {
        // Autoplay with sound refused: fall back to muted playback with the unmute button.
        if ((e as DOMException).name === "NotAllowedError" && !v.muted) v.muted = true;
      })
      .finally(() => {
        this.#playPending = false;
      });
  }

  readonly #onVisibility = (): void => {
    if (document.visibilityState === "visible") this.#edge.jumpToEdge(performance.now());
  };
}
