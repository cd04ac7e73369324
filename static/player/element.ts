/**
 * `<sluice-player>`: plays a Sluice live stream from its WebSocket with Media Source Extensions.
 * Without MediaSource and ManagedMediaSource but with native HLS it plays the stream's LL-HLS
 * playlist instead (native-hls.ts: no WebSocket, so no viewer reports). A `src` naming an HLS
 * playlist (`….m3u8`, a recording) is played by the VOD loader (vod-player.ts) with native controls.
 *
 * Attributes: `src`, `stream`, `target-latency`, `muted`, `controls`, `stats` (see player-config.ts).
 * Properties: `state`, `stats`, `video`, `latency`, `latencyKind`, `targetLatency`, `src`.
 * Methods: `jumpToLive()`, `reconnect()`.
 * Events: `statechange` (detail `{state, message}`), `latency` (detail `{latency, kind}`, about
 * 4 times a second while a value is known).
 */

import { AutoTarget } from "./auto-target.ts";
import { autoplay } from "./autoplay.ts";
import { Cadence } from "./cadence.ts";
import { isPlaylistUrl, liveHlsUrl } from "./hls-url.ts";
import { LatencyMeter, type LatencySample } from "./latency-meter.ts";
import { LiveEdgeController } from "./live-edge.ts";
import { mediaSourceClass } from "./mse-sink.ts";
import { HLS_MIME, NativeHls, playsHlsNatively } from "./native-hls.ts";
import { boolAttr, CONFIG_ATTRIBUTES, type PlayerConfig, readConfig } from "./player-config.ts";
import { formatStats, type SluiceStats, StatsMeter, snapshotStats } from "./player-stats.ts";
import { Session } from "./session.ts";
import { type PlayerState, type StateChangeDetail, stateText } from "./state.ts";
import { PlayerView } from "./view.ts";
import { VodPlayer } from "./vod-player.ts";

const TICK_MS = 250;

export class SluicePlayerElement extends HTMLElement {
  static get observedAttributes(): string[] {
    return [...CONFIG_ATTRIBUTES];
  }

  readonly #view: PlayerView;
  readonly #cadence = new Cadence();
  readonly #autoTarget = new AutoTarget();
  readonly #meter: LatencyMeter;
  readonly #edge: LiveEdgeController;
  #config: PlayerConfig | undefined;
  #session: Session | undefined;
  /** The other two ways to play: the browser's own HLS, and a recording through the VOD loader. */
  #native: NativeHls | undefined;
  #vod: VodPlayer | undefined;
  /** `src` names an HLS playlist (a recording), not a live stream. */
  #recording = false;
  #statsMeter = new StatsMeter();
  #timer: ReturnType<typeof setInterval> | undefined;
  #state: PlayerState = "connecting";
  #detail = "";
  #latency: LatencySample = { latency: Number.NaN, kind: "buffer" };
  #playPending = false;

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
      interval: () => this.#cadence.interval,
      sinceAppend: () => this.#cadence.sinceAppend(performance.now()),
      remove: (start, end) => this.#session?.pipeline.remove(start, end),
      play: () => this.#play(),
      trim: (seconds) => this.#session?.pipeline.trim(seconds),
      now: () => performance.now(),
    });
    v.addEventListener("volumechange", () => this.#view.showUnmute(v.muted));
    v.addEventListener("waiting", () => {
      // The buffer ran dry while live (not a seek, not a stream that ended): ask for more headroom.
      if (this.#state === "playing" && !v.seeking && this.#edge.started) this.#autoTarget.underrun(performance.now());
    });
    v.addEventListener("error", () => {
      if (v.error) this.#session?.pipeline.mediaError(`media error ${v.error.code}: ${v.error.message}`);
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

  /**
   * Target mean buffer latency in seconds: the `target-latency` attribute, or automatic (from the
   * measured arrival jitter and fragment interval, see auto-target.ts).
   */
  get targetLatency(): number {
    const t = this.#config?.targetLatency ?? Number.NaN;
    if (!Number.isNaN(t)) return t;
    const now = performance.now();
    return this.#autoTarget.value(this.#cadence.arrivals.headroom(now), this.#cadence.interval, now);
  }

  get src(): string {
    return this.#config?.src ?? readConfig(this).src;
  }

  set src(value: string) {
    this.setAttribute("src", value);
  }

  /** A fresh snapshot of the playback statistics. */
  get stats(): SluiceStats {
    const p = this.#session?.pipeline;
    return snapshotStats(this.video, this.#statsMeter, {
      state: this.#state,
      mime: p?.mime ?? this.#vod?.mime ?? (this.#native ? HLS_MIME : ""),
      format: p?.format ?? (this.#vod ? "fmp4" : this.#native ? "hls" : ""),
      latency: this.#latency,
      targetLatency: this.targetLatency,
      reconnects: this.#session?.connection.reconnects ?? 0,
      fragmentsDropped: p?.queue.dropped ?? 0,
      jumps: this.#edge.jumps,
      nudges: this.#edge.nudges,
      restarts: p?.restarts ?? 0,
      recreations: p?.recreations ?? 0,
      fragmentInterval: this.#cadence.interval,
    });
  }

  /** Seeks to the live edge now (if more than 0.2 s behind it). */
  jumpToLive(): void {
    if (!this.#recording) this.#edge.jumpToEdge(performance.now());
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
    this.#recording = isPlaylistUrl(config.src);
    this.#applyConfig(config, true);
    this.#statsMeter = new StatsMeter();
    this.#setState("connecting", "");
    const mse = mediaSourceClass() !== undefined;
    if (this.#recording) {
      if (mse) this.#startVod(config.src);
      else if (playsHlsNatively(this.video)) this.#startNative(config.src, false);
      else return this.#setState("unsupported", "this browser has neither Media Source Extensions nor native HLS");
      this.#timer = setInterval(() => this.#tick(), TICK_MS);
      return;
    }
    if (!mse) {
      if (!playsHlsNatively(this.video))
        return this.#setState("unsupported", "this browser has neither Media Source Extensions nor native HLS");
      this.#startNative(liveHlsUrl(config.src, this.getAttribute("stream")?.trim() || "live"), true);
      this.#meter.start();
      this.#timer = setInterval(() => this.#tick(), TICK_MS);
      return;
    }
    this.#session = new Session(config.src, {
      video: this.video,
      cadence: this.#cadence,
      meter: this.#meter,
      edge: this.#edge,
      stats: this.#statsMeter,
      setState: (state, detail) => this.#setState(state, detail),
      target: () => this.targetLatency,
    });
    this.#session.start();
    this.#meter.start();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    document.addEventListener("visibilitychange", this.#onVisibility);
  }

  #startNative(url: string, live: boolean): void {
    this.#native = new NativeHls(url, live, {
      video: this.video,
      setState: (state, detail) => this.#setState(state, detail),
      play: () => this.#play(),
    });
    this.#native.start();
  }

  #startVod(url: string): void {
    this.#vod = new VodPlayer(url, {
      video: this.video,
      stats: this.#statsMeter,
      setState: (state, detail) => this.#setState(state, detail),
      play: () => this.#play(),
      live: (playlist) => {
        // Not a recording (no EXT-X-ENDLIST): live playback is the WebSocket's job, or the browser's own HLS.
        this.#vod = undefined;
        if (playsHlsNatively(this.video)) this.#startNative(playlist, true);
        else this.#setState("unsupported", "a live HLS playlist: play live streams from their WebSocket (src ws://…/ws/<stream>)");
      },
    });
    void this.#vod.start();
  }

  #stop(): void {
    clearInterval(this.#timer);
    document.removeEventListener("visibilitychange", this.#onVisibility);
    this.#native?.stop();
    this.#native = undefined;
    this.#vod?.stop();
    this.#vod = undefined;
    this.#session?.stop();
    this.#session = undefined;
    this.#meter.stop();
    this.#meter.reset();
  }

  #applyConfig(config: PlayerConfig, initial: boolean): void {
    const previous = this.#config;
    this.#config = config;
    const v = this.video;
    if (initial || previous?.muted !== config.muted) v.muted = config.muted;
    // A recording gets the video's own controls (seek bar) unless `controls="false"`.
    v.controls = this.#recording ? boolAttr(this.getAttribute("controls"), true) : config.controls;
    this.#view.showUnmute(v.muted);
    if (initial || previous?.stats !== config.stats) this.#showStats(config.stats);
  }

  #setState(state: PlayerState, detail: string): void {
    const changed = state !== this.#state || detail !== this.#detail;
    this.#state = state;
    this.#detail = detail;
    const text = stateText(state, detail);
    // A recording playing shows no "● playing" badge: it is not live, and its controls say enough.
    const shown = state === "playing" && this.#recording ? "" : text;
    this.#view.setStatus(shown, state === "playing" ? "badge" : state === "error" || state === "unsupported" ? "error" : "overlay");
    if (changed) this.dispatchEvent(new CustomEvent<StateChangeDetail>("statechange", { detail: { state, message: text } }));
  }

  #tick(): void {
    const now = performance.now();
    if (this.#session) this.#edge.tick(now);
    this.#statsMeter.tick(now, this.video);
    this.#latency = this.#recording ? { latency: Number.NaN, kind: "buffer" } : this.#meter.sample();
    if (!Number.isNaN(this.#latency.latency)) this.dispatchEvent(new CustomEvent("latency", { detail: { ...this.#latency } }));
    if (this.#view.statsVisible) this.#view.renderStats(formatStats(this.stats));
    this.#session?.tick(now);
    this.#vod?.pump();
  }

  #showStats(visible: boolean): void {
    this.#view.setStatsVisible(visible);
    if (visible) this.#view.renderStats(formatStats(this.stats));
  }

  #play(): void {
    if (this.#playPending || !this.video.paused) return;
    this.#playPending = true;
    void autoplay(this.video).finally(() => {
      this.#playPending = false;
    });
  }

  /** Back from the background: whatever the browser did meanwhile, return to the live edge now. */
  readonly #onVisibility = (): void => {
    if (document.visibilityState === "visible" && this.#session) this.#edge.catchUp(performance.now());
  };
}
