/**
 * The element's shadow DOM: the video, a state overlay, an "unmute" button, a stats toggle button
 * and the stats panel. Pure presentation: the element tells it what to show. Parts are exposed for
 * styling: `video`, `status`, `unmute`, `stats-toggle`, `stats`.
 */

const STYLE = `
:host { display: block; position: relative; background: #000; color: #fff; aspect-ratio: 16 / 9;
  font: 14px/1.4 system-ui, sans-serif; overflow: hidden; contain: content; }
:host([hidden]) { display: none; }
video { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; background: #000; }
.status { position: absolute; left: 50%; top: 50%; transform: translate(-50%, -50%); max-width: 90%;
  padding: .6em 1em; border-radius: .4em; background: rgba(0,0,0,.65); text-align: center; pointer-events: none; }
.status.badge { left: .6em; top: .6em; transform: none; padding: .15em .5em; font-size: 12px; opacity: .75; }
.status.badge::before { content: "● "; color: #e33; }
.status.error { color: #ffb4b4; }
.buttons { position: absolute; right: .6em; top: .6em; display: flex; gap: .4em; }
button { font: inherit; font-size: 12px; color: #fff; background: rgba(0,0,0,.6); border: 1px solid rgba(255,255,255,.4);
  border-radius: .4em; padding: .3em .7em; cursor: pointer; }
button:hover, button:focus-visible { background: rgba(40,40,40,.85); border-color: #fff; }
.unmute { font-size: 14px; font-weight: 600; }
.stats { position: absolute; left: .6em; bottom: .6em; margin: 0; padding: .5em .7em; border-radius: .4em;
  background: rgba(0,0,0,.7); font: 11px/1.35 ui-monospace, monospace; white-space: pre; pointer-events: none; max-width: calc(100% - 1.2em); overflow: hidden; }
[hidden] { display: none !important; }
`;

/** A crossed-out speaker (inline SVG: no icon font needed). */
const MUTED_ICON = `<svg width="14" height="14" viewBox="0 0 24 24" aria-hidden="true" style="vertical-align:-2px">
<path fill="currentColor" d="M3 9v6h4l5 5V4L7 9H3z"/><path stroke="currentColor" stroke-width="2" d="M16 9l6 6M22 9l-6 6"/></svg>`;

export class PlayerView {
  readonly video: HTMLVideoElement;
  readonly #status: HTMLDivElement;
  readonly #unmute: HTMLButtonElement;
  readonly #statsToggle: HTMLButtonElement;
  readonly #stats: HTMLPreElement;

  constructor(root: ShadowRoot, handlers: { unmute(): void; toggleStats(): void }) {
    const style = document.createElement("style");
    style.textContent = STYLE;
    this.video = el("video", "video");
    this.video.playsInline = true;
    // No autoplay attribute: the live-edge controller starts playback once enough is buffered.
    this.video.muted = true;
    this.#status = el("div", "status");
    this.#status.setAttribute("role", "status");
    this.#status.setAttribute("aria-live", "polite");
    const buttons = el("div", "buttons");
    this.#unmute = el("button", "unmute");
    this.#unmute.type = "button";
    this.#unmute.innerHTML = MUTED_ICON;
    this.#unmute.append(" Unmute");
    this.#unmute.addEventListener("click", () => handlers.unmute());
    this.#statsToggle = el("button", "stats-toggle");
    this.#statsToggle.type = "button";
    this.#statsToggle.textContent = "stats";
    this.#statsToggle.title = "show or hide playback statistics";
    this.#statsToggle.addEventListener("click", () => handlers.toggleStats());
    buttons.append(this.#unmute, this.#statsToggle);
    this.#stats = el("pre", "stats");
    this.#stats.hidden = true;
    root.append(style, this.video, this.#status, buttons, this.#stats);
  }

  /** Shows `text`; `badge` shrinks it to a corner label (playing), `error` colours it. */
  setStatus(text: string, look: "overlay" | "badge" | "error"): void {
    this.#status.textContent = text;
    this.#status.className = look === "overlay" ? "status" : `status ${look}`;
    this.#status.hidden = text === "";
  }

  showUnmute(visible: boolean): void {
    this.#unmute.hidden = !visible;
  }

  setStatsVisible(visible: boolean): void {
    this.#stats.hidden = !visible;
    this.#statsToggle.setAttribute("aria-pressed", String(visible));
  }

  get statsVisible(): boolean {
    return !this.#stats.hidden;
  }

  renderStats(text: string): void {
    if (!this.#stats.hidden) this.#stats.textContent = text;
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, part: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = part;
  e.setAttribute("part", part);
  return e;
}
