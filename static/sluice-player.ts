/**
 * Sluice browser player. Loading this module (served bundled as `/sluice-player.js`) defines the
 * `<sluice-player>` custom element:
 *
 *   <script type="module" src="/sluice-player.js"></script>
 *   <sluice-player src="ws://host:8080/ws/live" stats></sluice-player>
 *
 * See `player/element.ts` for attributes, properties and events.
 */

import { SluicePlayerElement } from "./player/element.ts";

export { SluicePlayerElement };
export type { PlayerState, StateChangeDetail } from "./player/state.ts";
export type { SluiceStats } from "./player/stats.ts";
export type { LatencyKind, LatencySample } from "./player/latency-meter.ts";

if (typeof customElements !== "undefined" && !customElements.get("sluice-player")) {
  customElements.define("sluice-player", SluicePlayerElement);
}

declare global {
  interface HTMLElementTagNameMap {
    "sluice-player": SluicePlayerElement;
  }
}
