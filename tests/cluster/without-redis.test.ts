import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(60_000);

const SRC = join(import.meta.dir, "../../src");

test("without --redis no cluster or Redis code is loaded and /api/streams is unchanged (no node field)", async () => {
  // A fresh process, so modules loaded by other test files do not count.
  const probe = `
    const { parseConfig } = await import(${JSON.stringify(`${SRC}/config.ts`)});
    const { startSluice } = await import(${JSON.stringify(`${SRC}/sluice.ts`)});
    const { createLogger } = await import(${JSON.stringify(`${SRC}/log.ts`)});
    const p = parseConfig(["--http-host", "127.0.0.1", "--http-port", "0", "--ingest-host", "127.0.0.1", "--ingest-port", "0"], {});
    const s = await startSluice(p.config, createLogger("silent"));
    const health = await (await fetch("http://127.0.0.1:" + s.httpPort + "/healthz")).json();
    const streams = await (await fetch("http://127.0.0.1:" + s.httpPort + "/api/streams")).json();
    console.log(JSON.stringify({ loaded: Object.keys(require.cache).filter((k) => /ioredis|\\/src\\/cluster\\//.test(k)), health, streams }));
    await s.stop();
  `;
  const r = Bun.spawnSync([process.execPath, "-e", probe], { stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode, r.stderr.toString()).toBe(0);
  const out = JSON.parse(r.stdout.toString().trim().split("\n").pop()!) as {
    loaded: string[];
    health: Record<string, unknown>;
    streams: unknown[];
  };
  expect(out.loaded).toEqual([]);
  expect(out.health).toEqual({ ok: true, streams: 0 });
  expect(out.streams).toEqual([]);
});

test("with Redis unreachable at start, a node starts degraded (logged once), takes publishers and serves its own viewers", async () => {
  const dead = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = dead.port;
  dead.stop(true); // nothing listens there now
  const node = await startTestSluice(["--redis", `redis://127.0.0.1:${port}`]);
  try {
    expect(node.logs.filter((l) => l.includes(" cluster-redis-down "))).toHaveLength(1);
    const viewer = await connectViewer(`ws://127.0.0.1:${node.httpPort}/ws/live`);
    const ff = runFfmpeg(LOWLAT_MP4(2, `tcp://127.0.0.1:${node.ingestPort}`));
    expect(await ff.done, await ff.stderr()).toBe(0);
    await viewer.until((m) => texts(m, "ended").length === 1, 10_000, "ended");
    expect(sessions(viewer.messages)[0]!.fragments.length).toBeGreaterThan(10);
    await node.waitLog(/ cluster-lease-degraded stream=live /);
    const health = (await (await fetch(`http://127.0.0.1:${node.httpPort}/healthz`)).json()) as { ok: boolean; cluster: { redis: string } };
    expect(health).toMatchObject({ ok: true, cluster: { redis: "down" } });
    const streams = (await (await fetch(`http://127.0.0.1:${node.httpPort}/api/streams`)).json()) as Array<Record<string, unknown>>;
    expect(streams.map((s) => s.name)).toEqual(["live"]);
    viewer.close();
  } finally {
    await node.stop();
  }
});
