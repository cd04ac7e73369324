import { resolve } from "node:path";
import type { PublisherConfig } from "../child/publisher.ts";
import { wallMs } from "./clock.ts";
import { BUN, spawnChild, startServer, stop } from "./processes.ts";
import { mfhdSequence, type Plan, TMP } from "./recording.ts";
import { percentile } from "./stats.ts";

/**
 * Join time while the stream is live: `joins` viewers connect one after another (every `spacingMs`,
 * so they sample every phase of the GOP); each measures connect start → WebSocket `open` → first
 * keyframe fragment. With the GOP cache the first fragment after the init segment is the cached
 * keyframe; without it (`--gop-cache-bytes 0`) the viewer waits for the next live keyframe.
 */

export interface JoinResult {
  cache: boolean;
  joins: number;
  failed: number;
  /** `new WebSocket()` → first keyframe fragment received: what a player waits for. */
  connectToKeyframe: { p50: number; p99: number };
  /** The WebSocket `open` event → first keyframe fragment received. */
  openToKeyframe: { p50: number; p99: number };
  connectToOpen: { p50: number; p99: number };
}

function joinOnce(url: string, keyframes: Set<number>): Promise<{ open: number; key: number } | undefined> {
  return new Promise((resolveJoin) => {
    const t0 = wallMs();
    let tOpen = Number.NaN;
    let gotInit = false;
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const end = (r: { open: number; key: number } | undefined) => {
      clearTimeout(timer);
      ws.onclose = ws.onmessage = ws.onerror = null;
      ws.close();
      resolveJoin(r);
    };
    const timer = setTimeout(() => end(undefined), 5000);
    ws.onopen = () => (tOpen = wallMs());
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") return;
      const t = wallMs();
      if (!gotInit) gotInit = true;
      else if (keyframes.has(mfhdSequence(new Uint8Array(ev.data as ArrayBuffer)))) end({ open: tOpen - t0, key: t - tOpen });
    };
    ws.onerror = ws.onclose = () => end(undefined);
  });
}

export async function runJoin(plan: Plan, cache: boolean, joins = 100, spacingMs = 103): Promise<JoinResult> {
  const tag = `join-${cache ? "cache" : "nocache"}`;
  const server = await startServer("sluice", cache ? [] : ["--gop-cache-bytes", "0"], `${tag}-server.log`);
  const seconds = Math.ceil((2500 + joins * spacingMs + 5000) / 1000);
  const pcfg: PublisherConfig = { recording: plan.path, port: server.ingestPort, seconds, out: resolve(TMP, `${tag}-publisher.json`) };
  const publisher = spawnChild([BUN, "bench/child/publisher.ts", JSON.stringify(pcfg)], { log: `${tag}-publisher.log` });
  try {
    await Bun.sleep(2500);
    const keyframes = new Set(plan.fragments.filter((f) => f.keyframe).map((f) => f.seq));
    const pending: Array<Promise<{ open: number; key: number } | undefined>> = [];
    for (let i = 0; i < joins; i++) {
      pending.push(joinOnce(server.wsUrl, keyframes));
      await Bun.sleep(spacingMs);
    }
    const results = await Promise.all(pending);
    const ok = results.filter((r) => r !== undefined);
    const pct = (xs: number[]) => ({ p50: percentile(xs, 0.5), p99: percentile(xs, 0.99) });
    return {
      cache,
      joins,
      failed: joins - ok.length,
      connectToKeyframe: pct(ok.map((r) => r.open + r.key)),
      openToKeyframe: pct(ok.map((r) => r.key)),
      connectToOpen: pct(ok.map((r) => r.open)),
    };
  } finally {
    await stop(publisher);
    await stop(server.proc);
  }
}
