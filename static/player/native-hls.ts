/**
 * Playback through the browser's own HLS (Safari, iOS without Media Source Extensions, recent
 * Chromium): `video.src` is the playlist. Used where neither MediaSource nor ManagedMediaSource
 * exists (a live stream's LL-HLS playlist, `/hls/<stream>/index.m3u8`), and for a recording's playlist
 * when there is no MSE.
 *
 * Before handing the URL to the video element, the playlist is fetched once to tell the states apart
 * (the element itself only says "error"): 404 → `waiting` (no such live stream yet), 401/403 →
 * `error`, a live playlist that already ended → `ended`, one without a complete segment yet or
 * anything else that fails → `connecting` and a retry with backoff. A live stream that errors or ends is probed again the
 * same way. No WebSocket is opened in this mode, so nothing is reported to the server's viewer
 * reports; latency is the element's buffer (buffered end − currentTime).
 */

import { parseMediaPlaylist } from "../../src/hls/playlist-parse.ts";
import { Backoff } from "./backoff.ts";
import { fetchBytes, HttpRefusal } from "./range-fetch.ts";
import type { PlayerState } from "./state.ts";

/** The MIME type of HLS playlists (RFC 8216bis §4). */
export const HLS_MIME = "application/vnd.apple.mpegurl";
const MAX_PLAYLIST_BYTES = 8 * 1024 * 1024;
/** Complete segments a live playlist needs before the video gets it; how soon to look again until then. */
const MIN_LIVE_SEGMENTS = 3;
const SOON_MS = 500;

/** True when the video element plays HLS itself. */
export function playsHlsNatively(video: HTMLVideoElement): boolean {
  return video.canPlayType(HLS_MIME) !== "";
}

export interface NativeHlsParts {
  video: HTMLVideoElement;
  setState(state: PlayerState, detail: string): void;
  /** Start playback (muted autoplay). */
  play(): void;
}

export class NativeHls {
  readonly #backoff = new Backoff(1000, 10_000);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abort = new AbortController();
  #stopped = false;

  /** `live`: a live stream (retried when it errors or ends); else a recording. */
  constructor(
    readonly url: string,
    readonly live: boolean,
    private readonly parts: NativeHlsParts,
  ) {}

  start(): void {
    const v = this.parts.video;
    v.addEventListener("playing", this.#onPlaying);
    v.addEventListener("error", this.#onError);
    v.addEventListener("ended", this.#onEnded);
    void this.#probe();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    const v = this.parts.video;
    v.removeEventListener("playing", this.#onPlaying);
    v.removeEventListener("error", this.#onError);
    v.removeEventListener("ended", this.#onEnded);
    v.removeAttribute("src");
    v.load();
  }

  async #probe(): Promise<void> {
    const { video, setState } = this.parts;
    this.#abort = new AbortController();
    let retryAs: [PlayerState, string] = ["connecting", ""];
    try {
      const text = new TextDecoder().decode(await fetchBytes({ url: this.url, key: this.url }, MAX_PLAYLIST_BYTES, this.#abort.signal));
      if (this.#stopped) return;
      const pl = parseMediaPlaylist(text);
      if (this.live && pl.endList) retryAs = ["ended", ""];
      // A stream that just went live lists few complete segments. Chromium 156's HLS player failed on
      // playlists of one or two (DEMUXER_ERROR_COULD_NOT_PARSE) and played from three on; §6.3.3 has
      // clients start three target durations from the end anyway.
      else if (this.live && pl.segments.length < MIN_LIVE_SEGMENTS) return this.#later(SOON_MS, "connecting", "the stream is starting");
      else {
        setState("connecting", "native HLS");
        video.src = this.url;
        this.parts.play();
        return;
      }
    } catch (e) {
      if (this.#stopped) return;
      const status = e instanceof HttpRefusal ? e.status : 0;
      if (status === 404 && this.live) retryAs = ["waiting", ""];
      else if (status >= 400 || !this.live) return setState("error", (e as Error).message);
      else retryAs = ["connecting", (e as Error).message];
    }
    this.#retry(...retryAs);
  }

  /** Probes again after the next backoff delay. */
  #retry(state: PlayerState, detail: string): void {
    const ms = this.#backoff.next();
    this.#later(ms, state, state === "connecting" ? `${detail ? `${detail}; ` : ""}retrying in ${(ms / 1000).toFixed(1)} s` : detail);
  }

  #later(ms: number, state: PlayerState, detail: string): void {
    this.parts.setState(state, detail);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#probe(), ms);
  }

  readonly #onPlaying = (): void => {
    this.#backoff.reset();
    this.parts.setState("playing", HLS_MIME);
  };

  readonly #onError = (): void => {
    const e = this.parts.video.error;
    if (this.#stopped || !e) return;
    const message = `media error ${e.code}${e.message ? `: ${e.message}` : ""}`;
    if (!this.live) return this.parts.setState("error", message);
    this.parts.video.removeAttribute("src");
    this.#retry("connecting", message);
  };

  readonly #onEnded = (): void => {
    if (!this.live) return this.parts.setState("ended", "end of the recording");
    this.#retry("ended", "");
  };
}
