import { expect, setDefaultTimeout, test } from "bun:test";
import { LOWLAT_MP4, runFfmpeg } from "./helpers/ffmpeg.ts";
import { spawnSluice } from "./helpers/sluice-process.ts";
import { connectViewer, sessions, texts } from "./helpers/ws-viewer.ts";

setDefaultTimeout(60_000);

test.each(["SIGTERM", "SIGINT"] as const)(
  "on %s viewers get ended and close 1001, the publisher is closed, and the process exits 0 within 2 s",
  async (signal) => {
    const sluice = await spawnSluice();
    const viewer = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
    const ff = runFfmpeg(LOWLAT_MP4(30, `tcp://127.0.0.1:${sluice.ingestPort}`));
    await viewer.until((m) => (sessions(m)[0]?.fragments.length ?? 0) > 3, 15_000, "fragments");
    const t0 = performance.now();
    sluice.proc.kill(signal);
    const code = await sluice.proc.exited;
    const elapsed = performance.now() - t0;
    expect(code).toBe(0);
    expect(elapsed).toBeLessThan(2000);
    const closed = await viewer.closed;
    expect(closed.code).toBe(1001);
    expect(texts(viewer.messages, "ended")).toHaveLength(1);
    expect(texts(viewer.messages, "error")).toHaveLength(0);
    expect(await ff.done).not.toBe(0); // ffmpeg lost its connection
    expect(sluice.output()).toContain(`shutdown signal=${signal}`);
  },
);
