import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { concat } from "../helpers/feed.ts";
import { fixture } from "../helpers/fixtures.ts";
import { spawnSluice } from "../helpers/sluice-process.ts";
import {
  boxHeader,
  chunked,
  chunkedPutHead,
  connectRaw,
  fmp4FirstFragment,
  fmp4Init,
  LAST_CHUNK,
  responseStatus,
  sampleRss,
  writeChunked,
} from "./hostile.ts";

/**
 * What a hostile publisher can make a real Sluice (its own process) hold: the resident set may grow
 * by at most MAX_GROWTH over its idle baseline, whatever the chunking, and where the configured
 * `--max-element-bytes` is passed the publisher is cut off with `too-large`.
 */

setDefaultTimeout(60_000);
const MiB = 1024 * 1024;
const MAX_GROWTH = 64 * MiB;

/** A spawned Sluice's idle RSS, then its peak while `run` runs. */
async function rssGrowth(args: string[], run: (s: Awaited<ReturnType<typeof spawnSluice>>) => Promise<void>): Promise<number> {
  const sluice = await spawnSluice(args);
  try {
    await Bun.sleep(300);
    const base = sluice.rss();
    const sampler = sampleRss(() => sluice.rss());
    await run(sluice);
    const growth = sampler.stop() - base;
    console.log(`  RSS ${(base / MiB).toFixed(0)} MiB idle, peak +${(growth / MiB).toFixed(1)} MiB`);
    return growth;
  } finally {
    await sluice.stop();
  }
}

/** The log line saying how the publisher of `stream` left. */
async function publisherGone(output: () => string, stream: string): Promise<string> {
  const re = new RegExp(`publisher-(disconnected|error) stream=${stream} `);
  const end = Date.now() + 30_000;
  for (;;) {
    const line = output()
      .split("\n")
      .find((l) => re.test(l));
    if (line) return line;
    if (Date.now() > end) throw new Error(`no publisher-disconnected/error line for ${stream}:\n${output()}`);
    await Bun.sleep(20);
  }
}

describe("a hostile publisher cannot make Sluice hold more than its caps", () => {
  test("16 MiB of 5-byte unknown-size WebM Segment headers behind a 1 MiB cap: too-large, RSS +< 64 MiB", async () => {
    const webm = fixture("vp8-opus.webm");
    const ebmlHeader = webm.subarray(0, 4 + 1 + (webm[4]! & 0x7f)); // 1A 45 DF A3, 1-byte size VINT, body
    // 18 53 80 67 = Segment ID, FF = 1-byte size VINT with every value bit set: unknown size (RFC 8794 §6.2).
    const flood = new Uint8Array(16 * MiB - ((16 * MiB) % 5));
    for (let i = 0; i < flood.byteLength; i += 5) flood.set([0x18, 0x53, 0x80, 0x67, 0xff], i);
    let gone = "";
    let accepted = true;
    const growth = await rssGrowth(["--max-element-bytes", "1MiB"], async (sluice) => {
      const conn = await connectRaw(sluice.ingestPort);
      await conn.write(ebmlHeader);
      for (let o = 0; o < flood.byteLength && accepted; o += MiB) accepted = await conn.write(flood.subarray(o, o + MiB));
      conn.end();
      gone = await publisherGone(sluice.output, "live");
    });
    expect(gone).toContain("reason=too-large");
    expect(accepted).toBe(false); // cut off before the flood was through
    expect(growth).toBeLessThan(MAX_GROWTH);
  });

  test("an 8 MiB box in one-byte chunked-HTTP chunks under the default 32 MiB cap: relayed, RSS +< 64 MiB", async () => {
    const init = fmp4Init();
    const emsg = concat([boxHeader("emsg", 8 + 8 * MiB), new Uint8Array(8 * MiB)]);
    const fragment = fmp4FirstFragment();
    let status = 0;
    let gone = "";
    const growth = await rssGrowth(["--max-element-bytes", "32MiB"], async (sluice) => {
      const conn = await connectRaw(sluice.httpPort);
      await conn.write(concat([chunkedPutHead("big-box"), chunked(init, 4096)]));
      expect(await writeChunked(conn, emsg, 1)).toBe(true);
      expect(await writeChunked(conn, fragment, 1)).toBe(true);
      await conn.write(LAST_CHUNK);
      status = await responseStatus(conn, 45_000);
      conn.end();
      gone = await publisherGone(sluice.output, "big-box");
    });
    expect(status).toBe(204);
    expect(gone).toContain(`publisher-disconnected stream=big-box `);
    expect(gone).toContain(` bytes=${init.byteLength + emsg.byteLength + fragment.byteLength} `);
    expect(growth).toBeLessThan(MAX_GROWTH);
  });
});
