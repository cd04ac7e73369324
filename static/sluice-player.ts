/**
 * Sluice browser player. Loading this module (served bundled as `/sluice-player.js`) defines the
 * `<sluice-player>` custom element; one script tag is all a page needs:
 *
 *   <script type="module" src="/sluice-player.js"></script>
 *   <sluice-player src="ws://host:8080/ws/live" stats></sluice-player>
 *
 * Attributes: `src` (WebSocket URL; default `ws(s)://<page host>/ws/<stream>`; an http(s) `….m3u8` URL
 * plays that HLS playlist as a recording), `stream` (default
 * `live`), `target-latency` (seconds or `auto`), `muted` (default true; `muted="false"` tries sound),
 * `controls`, `stats`.
 * Properties: `state`, `stats`, `video`, `latency`, `latencyKind`, `targetLatency`, `src`.
 * Methods: `jumpToLive()`, `reconnect()`.
 * Events: `statechange` ({state, message}), `latency` ({latency, kind}).
 * Details in `player/element.ts` and the modules it uses.
 */

import { SluicePlayerElement } from "./player/element.ts";

export type { LatencyKind, LatencySample } from "./player/latency-meter.ts";
export type { SluiceStats } from "./player/player-stats.ts";
export type { PlayerState, StateChangeDetail } from "./player/state.ts";
export { SluicePlayerElement };

if (typeof customElements !== "undefined" && !customElements.get("sluice-player")) {
  customElements.define("sluice-player", SluicePlayerElement);
}

declare global {
  interface HTMLElementTagNameMap {
    "sluice-player": SluicePlayerElement;
  }
}
