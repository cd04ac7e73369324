/**
 * Reading the element's attributes into a configuration.
 *
 * - `src`: WebSocket URL; relative and http(s) URLs are resolved against the page and mapped to
 *   ws(s). Without `src`: `ws(s)://<location.host>/ws/<stream>`, `stream` defaulting to `live`.
 *   An http(s) URL ending in `.m3u8` (an HLS playlist: a recording's `/hls/<stream>/vod.m3u8?…`)
 *   is kept as it is: the player plays it as a recording (see vod-player.ts).
 * - `target-latency`: seconds (> 0), or absent / `auto`.
 * - `muted`: default true; `muted="false"` (or `0`, `no`, `off`) starts with sound (browsers may
 *   refuse: the player then falls back to muted and shows the unmute button).
 * - `controls`, `stats`: boolean attributes (present and not false/0/no/off).
 */

import { isPlaylistUrl } from "./hls-url.ts";

export interface PlayerConfig {
  src: string;
  /** Seconds, or NaN for automatic. */
  targetLatency: number;
  muted: boolean;
  controls: boolean;
  stats: boolean;
}

/** Attribute names the element observes. */
export const CONFIG_ATTRIBUTES = ["src", "stream", "target-latency", "muted", "controls", "stats"] as const;

export function readConfig(el: Element, loc: Location = location): PlayerConfig {
  return {
    src: resolveSrc(el.getAttribute("src"), el.getAttribute("stream"), loc),
    targetLatency: parseLatency(el.getAttribute("target-latency")),
    muted: boolAttr(el.getAttribute("muted"), true),
    controls: boolAttr(el.getAttribute("controls"), false),
    stats: boolAttr(el.getAttribute("stats"), false),
  };
}

/** The WebSocket URL for a `src` / `stream` attribute pair. */
export function resolveSrc(src: string | null, stream: string | null, loc: Location): string {
  const wsScheme = loc.protocol === "https:" ? "wss:" : "ws:";
  if (src && src.trim() !== "") {
    const url = new URL(src.trim(), loc.href);
    if (isPlaylistUrl(url.href)) return url.href;
    if (url.protocol === "http:") url.protocol = "ws:";
    else if (url.protocol === "https:") url.protocol = "wss:";
    return url.href;
  }
  const name = stream && stream.trim() !== "" ? stream.trim() : "live";
  return `${wsScheme}//${loc.host}/ws/${encodeURIComponent(name)}`;
}

/** Boolean attribute with a default: absent → `fallback`; false/0/no/off → false; anything else → true. */
export function boolAttr(value: string | null, fallback: boolean): boolean {
  if (value === null) return fallback;
  return !["false", "0", "no", "off"].includes(value.trim().toLowerCase());
}

function parseLatency(value: string | null): number {
  if (value === null || value.trim() === "" || value.trim().toLowerCase() === "auto") return Number.NaN;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 60) : Number.NaN;
}
