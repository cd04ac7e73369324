/**
 * The "naive single-file MSE page" of issue 13, the reference for Sluice's first frame: one small
 * HTML file with an inline script, served by the benchmark itself (`Bun.serve` on its own port, no
 * caching), that opens Sluice's WebSocket and creates a MediaSource at once, appends the init
 * segment and every fragment in order to one SourceBuffer, seeks to the start of what is buffered
 * and plays. No live-edge control, no reconnects, no error handling: the floor for "navigation →
 * first frame", not a player.
 *
 * It fills the same marks as the page instrumentation of tests/browser/harness.ts
 * (`window.__sluice.firstPresented` from requestVideoFrameCallback, `firstDecoded` from
 * `totalVideoFrames`; the WebSocket `open` is stamped by the instrumentation itself), so the
 * benchmark measures both pages with the same code.
 */

import type { Server } from "bun";

const page = (wsUrl: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>naive MSE page</title></head>
<body style="margin:0">
<video id="v" muted autoplay playsinline style="width:640px"></video>
<script>
const v = document.getElementById("v");
const marks = window.__sluice;
const wall = (t) => performance.timeOrigin + t;
v.requestVideoFrameCallback((_now, meta) => { if (marks) marks.firstPresented = wall(meta.presentationTime); });
(function poll() {
  if (v.getVideoPlaybackQuality().totalVideoFrames > 0) { if (marks) marks.firstDecoded = Date.now(); return; }
  setTimeout(poll, 5);
})();
const ws = new WebSocket(${JSON.stringify(wsUrl)});
ws.binaryType = "arraybuffer";
const ms = new MediaSource();
v.src = URL.createObjectURL(ms);
let mime = "";
let sb;
const queue = [];
const pump = () => {
  if (!sb || sb.updating || queue.length === 0) return;
  sb.appendBuffer(queue.shift());
};
const openBuffer = () => {
  if (sb || !mime || ms.readyState !== "open") return;
  sb = ms.addSourceBuffer(mime);
  sb.addEventListener("updateend", () => {
    const b = sb.buffered;
    if (b.length > 0 && v.currentTime < b.start(0)) v.currentTime = b.start(0);
    if (v.paused && b.length > 0) v.play().catch(() => {});
    pump();
  });
  pump();
};
ms.addEventListener("sourceopen", openBuffer, { once: true });
ws.onmessage = (e) => {
  if (typeof e.data === "string") {
    const m = JSON.parse(e.data);
    if (m.type === "stream" && !mime) { mime = m.mime; openBuffer(); }
    return;
  }
  queue.push(e.data);
  pump();
};
</script>
</body></html>
`;

/** The naive page on a free loopback port, playing `wsUrl` (e.g. `ws://127.0.0.1:8080/ws/live`). */
export function startNaivePage(wsUrl: string): { url: string; stop(): void } {
  const html = page(wsUrl);
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(html, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } }),
  });
  return { url: `http://127.0.0.1:${server.port}/`, stop: () => void server.stop(true) };
}
