import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { concat } from "../helpers/feed.ts";
import { type SluiceProcess, spawnSluice } from "../helpers/sluice-process.ts";
import {
  boxHeader,
  chunked,
  chunkedPutHead,
  connectRaw,
  fmp4FirstFragment,
  fmp4Init,
  LAST_CHUNK,
  probeHealthz,
  responseStatus,
  stypFreePairs,
  styps,
  writeChunked,
} from "./hostile.ts";

/**
 * Hostile publishers must not be able to stall Sluice's event loop through the container parsers:
 * while each one streams at full speed into a real Sluice (its own process, on loopback), `/healthz`
 * keeps answering within MAX_LATENCY_MS. The inputs are the cheap-to-send patterns that once cost
 * quadratic parser work: many tiny boxes held between fragments, many tiny HTTP chunks, one large
 * box in one-byte HTTP chunks. Each is a legal stream in the end (a fragment follows), so the whole
 * input really went through the parser.
 */

setDefaultTimeout(60_000);
const MAX_LATENCY_MS = 250;

let sluice: SluiceProcess;
beforeAll(async () => {
  sluice = await spawnSluice(["--max-element-bytes", "32MiB"]);
});
afterAll(async () => {
  await sluice.stop();
});

/** Runs `publish` while probing /healthz; the worst latency seen and how long publishing took. */
async function underLoad(publish: () => Promise<void>): Promise<{ maxMs: number; probes: number; publishMs: number }> {
  const probe = probeHealthz(sluice.httpPort);
  await Bun.sleep(50);
  const t0 = performance.now();
  await publish();
  const publishMs = performance.now() - t0;
  await Bun.sleep(50);
  const latencies = await probe.stop();
  const maxMs = Math.max(...latencies);
  console.log(`  /healthz max ${maxMs.toFixed(0)} ms over ${latencies.length} probes; publishing took ${publishMs.toFixed(0)} ms`);
  return { maxMs, probes: latencies.length, publishMs };
}

/** The log line saying how the publisher of `stream` left, once Sluice has handled all its bytes. */
async function publisherGone(stream: string): Promise<string | undefined> {
  const re = new RegExp(`publisher-(disconnected|error) stream=${stream} `);
  const end = Date.now() + 45_000;
  let line: string | undefined;
  while (
    !(line = sluice
      .output()
      .split("\n")
      .find((l) => re.test(l))) &&
    Date.now() < end
  )
    await Bun.sleep(20);
  return line;
}

// 2 MiB of alternating 8-byte styp/free boxes (each styp is kept for the next fragment, each free is
// dropped), then 50k more styp boxes, then a real fragment: one 2.4 MiB fragment in the end.
const PAIRS = 128 * 1024;
const STYPS = 50_000;
const tinyBoxes = () => concat([stypFreePairs(PAIRS), styps(STYPS), fmp4FirstFragment()]);

describe("/healthz stays responsive while a publisher streams hostile input at full speed", () => {
  test(`raw TCP: 2 MiB of 8-byte styp/free boxes and ${STYPS} styp boxes (~300k boxes)`, async () => {
    const payload = concat([fmp4Init(), tinyBoxes()]);
    let gone: string | undefined;
    const { maxMs, probes } = await underLoad(async () => {
      const conn = await connectRaw(sluice.ingestPort);
      expect(await conn.write(payload)).toBe(true);
      conn.end();
      gone = await publisherGone("live");
    });
    expect(gone).toContain(`publisher-disconnected stream=live remote=127.0.0.1:`);
    expect(gone).toContain(` bytes=${payload.byteLength} `);
    expect(probes).toBeGreaterThan(3);
    expect(maxMs).toBeLessThan(MAX_LATENCY_MS);
  });

  test("chunked HTTP: the same boxes, one 8-byte HTTP chunk per box (~300k chunks)", async () => {
    const init = fmp4Init();
    const boxes = tinyBoxes();
    const { maxMs, probes } = await underLoad(async () => {
      const conn = await connectRaw(sluice.httpPort);
      await conn.write(concat([chunkedPutHead("tiny-chunks"), chunked(init, 4096)]));
      expect(await writeChunked(conn, boxes, 8)).toBe(true);
      await conn.write(LAST_CHUNK);
      expect(await responseStatus(conn)).toBe(204);
      conn.end();
    });
    expect(await publisherGone("tiny-chunks")).toContain(` bytes=${init.byteLength + boxes.byteLength} `);
    expect(probes).toBeGreaterThan(3);
    expect(maxMs).toBeLessThan(MAX_LATENCY_MS);
  });

  test("chunked HTTP: a 1 MiB emsg box in one-byte HTTP chunks (~1M chunks), then a fragment", async () => {
    const init = fmp4Init();
    const emsg = concat([boxHeader("emsg", 8 + (1 << 20)), new Uint8Array(1 << 20)]);
    const fragment = fmp4FirstFragment();
    const { maxMs, probes } = await underLoad(async () => {
      const conn = await connectRaw(sluice.httpPort);
      await conn.write(concat([chunkedPutHead("one-byte-chunks"), chunked(init, 4096)]));
      expect(await writeChunked(conn, emsg, 1)).toBe(true);
      expect(await writeChunked(conn, fragment, 1)).toBe(true);
      await conn.write(LAST_CHUNK);
      expect(await responseStatus(conn)).toBe(204);
      conn.end();
    });
    expect(await publisherGone("one-byte-chunks")).toContain(` bytes=${init.byteLength + emsg.byteLength + fragment.byteLength} `);
    expect(probes).toBeGreaterThan(3);
    expect(maxMs).toBeLessThan(MAX_LATENCY_MS);
  });
});
