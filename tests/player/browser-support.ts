/**
 * Small pieces the player's browser tests (tests/browser/adaptive-target.test.ts, recovery.test.ts)
 * and the soak (bench/soak-browser.ts) share on top of tests/browser/harness.ts: publisher commands
 * for a fragment per frame and for 100 ms fragments, waiting for a stream to go live, and a page
 * script that counts stalls.
 */

export interface SourceOptions {
  /** Frame size, e.g. "426x240". */
  size?: string;
  fps?: number;
  seconds?: number;
  kbps?: number;
  /** Keyframe interval in frames. */
  gop?: number;
}

/** testsrc2 + a sine, x264 veryfast zerolatency + AAC, read at native rate (`-re`). */
function sourceArgs(o: SourceOptions = {}): string[] {
  const fps = o.fps ?? 30;
  const seconds = o.seconds ?? 600;
  const gop = String(o.gop ?? 2 * fps);
  return [
    ...["-hide_banner", "-loglevel", "error", "-nostdin"],
    ...["-re", "-f", "lavfi", "-i", `testsrc2=size=${o.size ?? "426x240"}:rate=${fps}:duration=${seconds}`],
    ...["-re", "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
    ...["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p"],
    ...["-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-b:v", `${o.kbps ?? 500}k`, "-c:a", "aac", "-b:a", "64k"],
  ];
}

/** Publishes over RTMP: Sluice remuxes it to a fragment per video frame (with the audio before it). */
export function rtmpPublisher(rtmpPort: number, stream: string, o: SourceOptions = {}): string[] {
  return [...sourceArgs(o), "-f", "flv", `rtmp://127.0.0.1:${rtmpPort}/live/${stream}`];
}

const MOVFLAGS = "empty_moov+default_base_moof+frag_keyframe+skip_trailer";

/** fMP4 over TCP with a `prft` per fragment: `frame` = `frag_every_frame`, `100ms` = `-frag_duration 100000`. */
export function fmp4Publisher(ingestPort: number, mode: "frame" | "100ms", o: SourceOptions = {}): string[] {
  const frag = mode === "frame" ? ["-movflags", `${MOVFLAGS}+frag_every_frame`] : ["-movflags", MOVFLAGS, "-frag_duration", "100000"];
  return [...sourceArgs(o), "-f", "mp4", ...frag, "-write_prft", "wallclock", `tcp://127.0.0.1:${ingestPort}`];
}

/** Resolves once `/api/streams/<name>` says live (throws after `ms`). */
export async function waitLive(httpPort: number, name: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${httpPort}/api/streams/${name}`).catch(() => undefined);
    if (r?.ok && ((await r.json()) as { live?: boolean }).live) return;
    if (Date.now() > until) throw new Error(`stream ${name} did not go live within ${ms} ms`);
    await Bun.sleep(100);
  }
}

/**
 * Page init script: `window.__stalls` counts the player video's `waiting` events once it has played
 * (not while seeking), `window.__stallLog` their times (Date.now()).
 */
export const COUNT_STALLS = `(() => {
  window.__stalls = 0;
  window.__stallLog = [];
  customElements.whenDefined("sluice-player").then(() => {
    const v = document.querySelector("sluice-player").video;
    let played = false;
    v.addEventListener("playing", () => { played = true; });
    v.addEventListener("waiting", () => {
      if (!played || v.seeking) return;
      window.__stalls++;
      window.__stallLog.push(Date.now());
    });
  });
})();`;

/** Page init script: `document.visibilityState` / `hidden` follow `window.__setHidden(bool)`, which also fires `visibilitychange`. */
export const EMULATE_VISIBILITY = `(() => {
  let hidden = false;
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
  window.__setHidden = (h) => { hidden = h; document.dispatchEvent(new Event("visibilitychange")); };
})();`;
