/**
 * First frame after navigation (issue 13, "first frame at once"): from navigation start
 * (`performance.timeOrigin`) to the first frame presented (requestVideoFrameCallback), on a first and
 * a second visit in the same browser profile. The first visit fetches the player once (the
 * `modulepreload` and the module script share the versioned URL), brotli-compressed; the second takes
 * it from the HTTP cache with no network transfer at all. Timings are printed, not asserted (beyond a
 * generous sanity bound): bench/browser.ts measures them.
 */

import { expect, test } from "bun:test";
import type { Response as PwResponse } from "playwright-core";
import { marks, openPlayerPage, publisherArgs } from "./harness.ts";
import { browserSuite } from "./suite.ts";

const suite = browserSuite();

interface ScriptEntry {
  name: string;
  initiatorType: string;
  transferSize: number;
  encodedBodySize: number;
  decodedBodySize: number;
  deliveryType: string;
}

interface Visit {
  navToPresented: number;
  navToWs: number;
  /** Resource Timing entries of the player module (transferSize 0 = from the HTTP cache). */
  script: ScriptEntry[];
  /** What Playwright saw on the network for the player module. */
  responses: Array<{ url: string; status: number; encoding: string | null; fromServiceWorker: boolean }>;
  /** HTTP status of the document (304 would be hidden by the cache: 200 either way). */
  documentTransfer: number;
}

async function waitLive(port: number): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${port}/api/streams/live`).catch(() => undefined);
    if (r?.ok && ((await r.json()) as { live?: boolean }).live) return;
    if (Date.now() > until) throw new Error("the stream did not go live within 20 s");
    await Bun.sleep(100);
  }
}

async function visit(url: string): Promise<Visit> {
  const context = suite.browser.context;
  const responses: Visit["responses"] = [];
  const onResponse = async (r: PwResponse) => {
    if (!new URL(r.url()).pathname.startsWith("/sluice-player.js")) return;
    responses.push({
      url: r.url(),
      status: r.status(),
      encoding: await r.headerValue("content-encoding"),
      fromServiceWorker: r.fromServiceWorker(),
    });
  };
  context.on("response", onResponse);
  const { page, errors } = await openPlayerPage(context, url);
  try {
    const until = Date.now() + 10_000;
    let m = await marks(page);
    while (!Number.isFinite(m.firstPresented)) {
      if (Date.now() > until) throw new Error(`no first frame within 10 s: ${JSON.stringify(m)}`);
      await Bun.sleep(20);
      m = await marks(page);
    }
    const timing = await page.evaluate(() => {
      const entries = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
      const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      return {
        origin: performance.timeOrigin,
        documentTransfer: nav.transferSize,
        script: entries
          .filter((e) => new URL(e.name).pathname === "/sluice-player.js")
          .map((e) => ({
            name: e.name,
            initiatorType: e.initiatorType,
            transferSize: e.transferSize,
            encodedBodySize: e.encodedBodySize,
            decodedBodySize: e.decodedBodySize,
            deliveryType: (e as PerformanceResourceTiming & { deliveryType?: string }).deliveryType ?? "?",
          })),
      };
    });
    expect(errors).toEqual([]);
    return {
      navToPresented: m.firstPresented - timing.origin,
      navToWs: m.wsOpen - timing.origin,
      script: timing.script,
      responses,
      documentTransfer: timing.documentTransfer,
    };
  } finally {
    context.off("response", onResponse);
    await page.close();
  }
}

test("first frame after navigation is printed; a second visit loads the player from the HTTP cache", async () => {
  suite.publish(publisherArgs("h264", `tcp://127.0.0.1:${suite.sluice.ingestPort}`));
  await waitLive(suite.sluice.httpPort);
  await Bun.sleep(1500); // a full GOP in the cache, past encoder start-up
  const url = `http://127.0.0.1:${suite.sluice.httpPort}/watch/live`;

  const first = await visit(url);
  const second = await visit(url);
  for (const [name, v] of [
    ["first visit", first],
    ["second visit", second],
  ] as const) {
    const s = v.script[0];
    console.log(
      `${name}: navigation → WebSocket open ${v.navToWs.toFixed(0)} ms, → first frame presented ${v.navToPresented.toFixed(0)} ms; ` +
        `player module: transfer ${s?.transferSize} B, encoded ${s?.encodedBodySize} B, decoded ${s?.decodedBodySize} B, ` +
        `delivery "${s?.deliveryType}", network responses ${JSON.stringify(v.responses.map((r) => [r.status, r.encoding]))}; document transfer ${v.documentTransfer} B`,
    );
  }

  // First visit: one fetch of the versioned URL (the modulepreload and the script share it), brotli.
  expect(first.script).toHaveLength(1);
  expect(first.script[0]!.name).toMatch(/\/sluice-player\.js\?v=[0-9a-f]{16}$/);
  expect(first.responses.map((r) => [r.status, r.encoding])).toEqual([[200, "br"]]);
  expect(first.script[0]!.transferSize).toBeGreaterThan(0);
  expect(first.script[0]!.encodedBodySize).toBeLessThan(first.script[0]!.decodedBodySize / 2.5);

  // Second visit: the same URL from the HTTP cache, nothing on the wire (not even a 304).
  expect(second.script).toHaveLength(1);
  expect(second.script[0]!.name).toBe(first.script[0]!.name);
  expect(second.script[0]!.transferSize).toBe(0);
  expect(second.script[0]!.deliveryType).toBe("cache");
  expect(second.script[0]!.decodedBodySize).toBe(first.script[0]!.decodedBodySize);
  expect(second.responses.every((r) => r.status === 200 && !r.fromServiceWorker)).toBe(true);

  // A sanity bound only (the first visit also pays for the browser's first page): the benchmark reports the real figures.
  for (const v of [first, second]) {
    expect(v.navToPresented).toBeGreaterThan(0);
    expect(v.navToPresented).toBeLessThan(v === first ? 8000 : 5000);
  }
}, 60_000);
