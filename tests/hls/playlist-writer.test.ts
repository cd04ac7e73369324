import { describe, expect, test } from "bun:test";
import type { FragmentEvent } from "../../src/container/types.ts";
import { HlsViews } from "../../src/hls/hls-views.ts";
import type { LiveWindow } from "../../src/hls/live-window.ts";
import { skippableSegments, writeLivePlaylist } from "../../src/hls/playlist-writer.ts";
import { type CheckedPlaylist, checkDelta, checkPlaylist, checkReload } from "../helpers/hls-checker.ts";
import { fixtureStream } from "./fixture-stream.ts";

const views = (segments = 12, partTarget = 0.2) => new HlsViews({ partTarget, segments, maxBytes: 64 << 20, endedKeepMs: 60_000 });

/**
 * Feeds fixture `name` through a `Stream` into `v` `loops` times (later loops shifted in time, as one
 * long stream), calling `each` with the window after every fragment.
 */
function feed(
  v: HlsViews,
  name: string,
  loops = 1,
  each?: (w: LiveWindow) => void,
  keyframe?: (time: number, f: FragmentEvent) => boolean,
) {
  const { stream, init, fragments } = fixtureStream(name);
  stream.setInit(init);
  v.started(stream);
  const last = fragments[fragments.length - 1]!;
  const loopTicks = last.decodeTime + (last.duration ?? 0);
  for (let k = 0; k < loops; k++) {
    for (const f of fragments) {
      const shifted: FragmentEvent = { ...f, decodeTime: f.decodeTime + k * loopTicks };
      if (keyframe) shifted.keyframe = keyframe(shifted.decodeTime / f.timescale, f);
      v.fragment(stream, stream.addFragment(shifted, Date.now()));
      const l = v.lookup("cam");
      if (l.kind === "live" && l.window.ready) each?.(l.window);
    }
  }
  return stream;
}

const live = (v: HlsViews) => {
  const l = v.lookup("cam");
  if (l.kind !== "live") throw new Error(`not live: ${l.kind}`);
  return l.window;
};

describe("the live playlist", () => {
  test("every playlist while a stream is fed passes the checker, and each one continues the one before", () => {
    const v = views();
    let prev: CheckedPlaylist | undefined;
    let n = 0;
    feed(v, "h264-main-aac.mp4", 8, (w) => {
      const p = checkPlaylist(writeLivePlaylist(w));
      if (prev) checkReload(prev, p);
      prev = p;
      n++;
    });
    expect(n).toBeGreaterThan(200);
    expect(prev!.segments.length).toBe(13); // 12 complete + the open one
    expect(prev!.targetDuration).toBe(1);
    expect(prev!.partTarget).toBe(0.2);
  });

  test("a delta update (_HLS_skip) leaves out exactly the segments beyond the skip boundary", () => {
    const v = views(40);
    let deltas = 0;
    feed(v, "h264-main-aac.mp4", 8, (w) => {
      if (skippableSegments(w) === 0) return;
      const full = checkPlaylist(writeLivePlaylist(w));
      const delta = checkPlaylist(writeLivePlaylist(w, { skip: true }));
      checkDelta(delta, full);
      expect(delta.version).toBe(9);
      deltas++;
    });
    expect(deltas).toBeGreaterThan(50);
  });

  test("with nothing to skip a delta request gets the full playlist", () => {
    const v = views();
    feed(v, "h264-main-aac.mp4");
    const w = live(v);
    expect(writeLivePlaylist(w, { skip: true })).toBe(writeLivePlaylist(w));
  });

  test("an ended stream's playlist ends with EXT-X-ENDLIST and hints nothing", () => {
    const v = views();
    const stream = feed(v, "h264-main-aac.mp4");
    v.ended(stream);
    const text = writeLivePlaylist(live(v));
    const p = checkPlaylist(text);
    expect(p.ended).toBe(true);
    expect(text.endsWith("#EXT-X-ENDLIST\n")).toBe(true);
    expect(p.segments.every((s) => s.duration !== undefined)).toBe(true);
    expect(p.segments.reduce((n, s) => n + s.duration!, 0)).toBeCloseTo(3, 1);
  });

  test("a publisher restart (new init): EXT-X-DISCONTINUITY and a new EXT-X-MAP, no URI reused", () => {
    const v = views();
    const stream = feed(v, "h264-main-aac.mp4");
    const { init, fragments } = fixtureStream("h264-midgop-frags.mp4");
    stream.setInit(init);
    v.started(stream);
    let prev = checkPlaylist(writeLivePlaylist(live(v)));
    for (const f of fragments) {
      v.fragment(stream, stream.addFragment(f, Date.now()));
      const p = checkPlaylist(writeLivePlaylist(live(v)));
      checkReload(prev, p);
      prev = p;
    }
    const maps = new Set(prev.segments.map((s) => s.map));
    expect(maps.size).toBe(2);
    const restart = prev.segments.findIndex((s) => s.discontinuity);
    expect(restart).toBeGreaterThan(0);
    expect(prev.segments[restart]!.map).not.toBe(prev.segments[0]!.map);
    const uris = prev.segments.flatMap((s) => [s.uri, ...s.parts.map((p) => p.uri)]).filter(Boolean);
    expect(new Set(uris).size).toBe(uris.length);
  });

  test("the viewer token rides on every URI: map, parts, segments and the preload hint", () => {
    const v = views();
    feed(v, "h264-main-aac.mp4");
    const q = "?token=1234.abc_-";
    const text = writeLivePlaylist(live(v), { query: q });
    const uris = [...text.matchAll(/URI="([^"]+)"/g)]
      .map((m) => m[1]!)
      .concat(text.split("\n").filter((l) => l !== "" && !l.startsWith("#")));
    expect(uris.length).toBeGreaterThan(20);
    for (const u of uris) expect(u.endsWith(q)).toBe(true);
  });

  test("per-frame fragments make parts of at least 85% of PART-TARGET except segment ends", () => {
    const v = views();
    feed(v, "h264-every-frame.mp4", 1, (w) => {
      checkPlaylist(writeLivePlaylist(w), { strictPartMinimum: true });
    });
  });

  test("a long GOP after a short first one: segments are split at part boundaries, EXT-X-TARGETDURATION stays 1", () => {
    const v = views();
    let prev: CheckedPlaylist | undefined;
    let n = 0;
    // The fixture's keyframes (0.6 s GOPs) in its first loop only, then one keyframe every 4 s of media.
    feed(
      v,
      "h264-main-aac.mp4",
      8,
      (w) => {
        const p = checkPlaylist(writeLivePlaylist(w));
        if (prev) checkReload(prev, p);
        prev = p;
        n++;
      },
      (t, f) => (t < 2.9 ? f.keyframe : Math.abs(t / 4 - Math.round(t / 4)) < 0.01),
    );
    expect(n).toBeGreaterThan(200);
    expect(prev!.targetDuration).toBe(1);
    expect(prev!.partTarget).toBe(0.2);
    expect(prev!.segments.filter((s) => s.parts.length > 0 && !s.parts[0]!.independent).length).toBeGreaterThan(0);
    expect([...v.windows()][0]!.splits).toBeGreaterThan(10);
    expect([...v.windows()][0]!.longSegments).toBe(0);
  });

  test("fragments longer than PART-TARGET after it is fixed (a restart with 0.6 s fragments): parts of their own, counted, PART-TARGET kept", () => {
    const v = views();
    const stream = feed(v, "h264-main-aac.mp4");
    const { init, fragments } = fixtureStream("h264-baseline-aac.mp4");
    stream.setInit(init);
    v.started(stream);
    for (const f of fragments) v.fragment(stream, stream.addFragment(f, Date.now()));
    const text = writeLivePlaylist(live(v));
    expect(text).toContain("#EXT-X-PART-INF:PART-TARGET=0.2\n");
    expect([...v.windows()][0]!.longParts).toBe(4);
    // The playlist says what happened: the checker names the part over PART-TARGET.
    expect(() => checkPlaylist(text)).toThrow(/over PART-TARGET 0.2/);
  });

  test("fragments longer than the part target (512 ms of AAC) raise PART-TARGET to them", () => {
    const v = views();
    feed(v, "aac-only.mp4");
    const p = checkPlaylist(writeLivePlaylist(live(v)));
    expect(p.partTarget).toBe(0.512);
    expect(p.partHoldBack).toBeCloseTo(1.536, 6);
  });

  test("EXT-X-PROGRAM-DATE-TIME comes from the publisher's prft wallclock", () => {
    const v = views();
    const { fragments } = fixtureStream("h264-aac-dash-prft.mp4");
    feed(v, "h264-aac-dash-prft.mp4");
    // The fixture was muxed faster than real time: its prft clock advances slower than its media, so no continuity rule.
    const p = checkPlaylist(writeLivePlaylist(live(v)), { pdtToleranceMs: Number.POSITIVE_INFINITY });
    const f0 = fragments[0]!;
    const expected = f0.prftWallclockMs! + ((f0.decodeTime - f0.prftMediaTime!) / f0.timescale) * 1000;
    expect(Math.abs(p.segments[0]!.programDateTime! - expected)).toBeLessThanOrEqual(1);
  });
});
