import { describe, expect, test } from "bun:test";
import type { FragmentEvent, InitEvent } from "../../src/container/types.ts";
import { StreamRegistry } from "../../src/stream/registry.ts";
import { Stream } from "../../src/stream/stream.ts";

const init: InitEvent = {
  type: "init",
  format: "fmp4",
  bytes: new Uint8Array(100),
  mime: 'video/mp4; codecs="avc1.42C01E"',
  tracks: [{ id: 1, kind: "video", codec: "avc1.42C01E", codecId: "avc1", timescale: 1000, width: 320, height: 240 }],
};
const frag = (t: number, keyframe: boolean, size = 1000): FragmentEvent => ({
  type: "fragment",
  bytes: new Uint8Array(size),
  keyframe,
  syncPoint: keyframe,
  decodeTime: t,
  timescale: 1000,
  start: t / 1000,
});

describe("Stream", () => {
  test("one publisher at a time; a second claim is refused and the first keeps the stream", () => {
    const s = new Stream("live", 1 << 20);
    expect(s.claim("a", 0)).toBe(true);
    expect(s.claim("b", 0)).toBe(false);
    expect(s.publisher).toBe("a");
    expect(s.release("b")).toBe(false);
    expect(s.release("a")).toBe(true);
    expect(s.claim("b", 0)).toBe(true);
  });

  test("is live only with a publisher and an init, and describes itself for viewers", () => {
    const s = new Stream("live", 1 << 20);
    expect(s.describe()).toBeUndefined();
    s.claim("a", 0);
    expect(s.live).toBe(false);
    s.setInit(init);
    expect(s.live).toBe(true);
    expect(s.describe()).toMatchObject({ stream: "live", mime: init.mime, format: "fmp4", width: 320, height: 240 });
  });

  test("sequence numbers stay monotonic across publisher restarts and a new init clears the GOP", () => {
    const s = new Stream("live", 1 << 20);
    s.claim("a", 0);
    s.setInit(init);
    expect(s.addFragment(frag(0, true), 0).seq).toBe(1);
    expect(s.addFragment(frag(1000, false), 100).seq).toBe(2);
    expect(s.gop.fragments).toHaveLength(2);
    s.release("a");
    expect(s.gop.fragments).toHaveLength(0);
    expect(s.init).toBeUndefined();
    s.claim("b", 200);
    s.setInit(init);
    expect(s.addFragment(frag(0, true), 300).seq).toBe(3);
  });

  test("counts bytes, fragments, keyframe interval, bitrate and publisher connects", () => {
    const s = new Stream("live", 1 << 20);
    s.claim("a", 0);
    s.setInit(init);
    for (let i = 0; i <= 20; i++) s.addFragment(frag(i * 100, i % 10 === 0, 1000), i * 100);
    expect(s.stats.bytesIn).toBe(21_000);
    expect(s.stats.fragments).toBe(21);
    expect(s.stats.keyframes).toBe(3);
    expect(s.stats.keyframeInterval).toBeCloseTo(1.0);
    expect(s.stats.bitrate).toBeCloseTo(80_000, -2); // 1000 B every 100 ms
    expect(s.stats.fragmentRate).toBeCloseTo(10);
    expect(s.stats.publisherConnects).toBe(1);
  });
});

describe("StreamRegistry", () => {
  test("forgets only idle streams, and only past the idle cap, oldest first", () => {
    const r = new StreamRegistry(1000, 1);
    const s = r.open("cam");
    s.viewers = 1;
    r.prune("cam");
    expect(r.get("cam")).toBe(s);
    s.viewers = 0;
    s.claim("p", 0);
    r.prune("cam");
    expect(r.get("cam")).toBe(s);
    s.release("p");
    r.prune("cam");
    expect(r.get("cam")).toBe(s); // remembered while within the idle cap
    const other = r.open("other");
    other.claim("q", 0);
    other.release("q");
    r.prune("other");
    expect(r.get("cam")).toBeUndefined();
    expect(r.get("other")).toBeDefined();
  });

  test("a name only viewers asked for is unlisted, lives while watched, and never evicts a published stream", () => {
    const r = new StreamRegistry(1000, 1);
    const cam = r.open("cam");
    cam.claim("p", 0);
    cam.release("p");
    r.prune("cam");
    const invented = r.watch("invented");
    invented.viewers = 1;
    r.prune("invented");
    expect(r.get("invented")).toBe(invented);
    expect(r.all().map((s) => s.name)).toEqual(["cam"]);
    invented.viewers = 0;
    r.prune("invented");
    expect(r.get("invented")).toBeUndefined();
    expect(r.get("cam")).toBe(cam);
    // Watching a published stream finds it; publishing to a watched name lists it.
    expect(r.watch("cam")).toBe(cam);
    const later = r.watch("later");
    r.open("later").claim("x", 0);
    expect(
      r
        .all()
        .map((s) => s.name)
        .sort(),
    ).toEqual(["cam", "later"]);
    expect(r.get("later")).toBe(later);
  });
});
