import { describe, expect, test } from "bun:test";
import { HlsViews } from "../../src/hls/hls-views.ts";
import { MEDIA_NAME_PATTERN, parseMediaName } from "../../src/hls/media-names.ts";
import { writeLivePlaylist } from "../../src/hls/playlist-writer.ts";
import { checkPlaylist, checkReload } from "../helpers/hls-checker.ts";
import { fixtureStream } from "./fixture-stream.ts";

const make = (endedKeepMs = 60_000) => new HlsViews({ partTarget: 0.2, segments: 12, maxBytes: 64 << 20, endedKeepMs });

function publish(v: HlsViews, fixture: string, name = "cam") {
  const { stream, init, fragments } = fixtureStream(fixture, name);
  stream.setInit(init);
  v.started(stream);
  for (const f of fragments) v.fragment(stream, stream.addFragment(f, Date.now()));
  return stream;
}

describe("HlsViews", () => {
  test("fMP4 streams get a window; WebM streams are marked as such and get none", () => {
    const v = make();
    publish(v, "h264-main-aac.mp4", "a");
    publish(v, "vp8-opus.webm", "b");
    expect(v.lookup("a").kind).toBe("live");
    expect(v.lookup("b").kind).toBe("webm");
    expect(v.lookup("c").kind).toBe("none");
  });

  test("an ended stream keeps its playlist with EXT-X-ENDLIST for a while, then its memory is freed", async () => {
    const v = make(100);
    const stream = publish(v, "h264-main-aac.mp4");
    let changes = 0;
    v.subscribe("cam", () => changes++);
    v.ended(stream);
    const l = v.lookup("cam");
    expect(l.kind === "live" && l.window.ended).toBe(true);
    expect([...v.windows()]).toHaveLength(1);
    await Bun.sleep(200);
    expect(v.lookup("cam").kind).toBe("none");
    expect([...v.windows()]).toHaveLength(0);
    expect(changes).toBeGreaterThanOrEqual(2); // the end, then the freeing
  });

  test("a new publisher while the ended playlist is kept continues its media sequence under a new epoch", () => {
    const v = make();
    const stream = publish(v, "h264-main-aac.mp4");
    const l1 = v.lookup("cam");
    if (l1.kind !== "live") throw new Error("not live");
    const first = checkPlaylist(writeLivePlaylist(l1.window));
    v.ended(stream);
    publish(v, "h264-main-aac.mp4");
    const l2 = v.lookup("cam");
    if (l2.kind !== "live") throw new Error("not live");
    const second = checkPlaylist(writeLivePlaylist(l2.window));
    expect(second.mediaSequence).toBe(first.segments[first.segments.length - 1]!.msn + 1);
    expect(second.segments[0]!.map).not.toBe(first.segments[0]!.map);
  });

  test("fragments left out (a cluster resync) put a discontinuity before the next segment", () => {
    const v = make();
    const { stream, init, fragments } = fixtureStream("h264-main-aac.mp4");
    stream.setInit(init);
    v.started(stream);
    for (const f of fragments.slice(0, 9)) v.fragment(stream, stream.addFragment(f, Date.now()));
    const l = v.lookup("cam");
    if (l.kind !== "live") throw new Error("not live");
    const before = checkPlaylist(writeLivePlaylist(l.window));
    v.skipped(stream);
    for (const f of fragments.slice(12)) v.fragment(stream, stream.addFragment(f, Date.now()));
    const after = checkPlaylist(writeLivePlaylist(l.window));
    checkReload(before, after);
    expect(after.segments.filter((s) => s.discontinuity)).toHaveLength(1);
  });

  test("a decode time far from its prft anchor (a hostile publisher) re-anchors on arrival: the playlist still renders", () => {
    const v = make();
    const { stream, init, fragments } = fixtureStream("h264-main-aac.mp4");
    stream.setInit(init);
    v.started(stream);
    for (const f of fragments)
      v.fragment(stream, stream.addFragment({ ...f, prftWallclockMs: Date.now(), prftMediaTime: 2 ** 62 }, Date.now()));
    const l = v.lookup("cam");
    if (l.kind !== "live") throw new Error(l.kind);
    expect(l.window.ready).toBe(true);
    const p = checkPlaylist(writeLivePlaylist(l.window));
    expect(p.segments.length).toBeGreaterThan(0);
    for (const s of l.window.segments) expect(Math.abs(s.wallclockMs! - Date.now())).toBeLessThan(60_000);
  });

  test("media names: exactly the three forms, nothing else", () => {
    const re = new RegExp(`^${MEDIA_NAME_PATTERN}$`);
    for (const ok of ["init-0123456789ab.mp4", "s-0123456789ab-0.m4s", "p-0123456789ab-12-3.m4s"]) {
      expect(re.test(ok)).toBe(true);
      expect(parseMediaName(ok)).toBeDefined();
    }
    expect(parseMediaName("p-0123456789ab-12-3.m4s")).toEqual({ kind: "part", epoch: "0123456789ab", msn: 12, part: 3 });
    for (const bad of [
      "s-0123456789ab-1-2.m4s",
      "p-0123456789ab-1.m4s",
      "init-0123456789AB.mp4",
      "../init-0123456789ab.mp4",
      "s-0123456789ab-1.m4s?x",
      "vod.m3u8",
      "index.m3u8",
    ]) {
      expect(parseMediaName(bad)).toBeUndefined();
    }
  });
});
