/**
 * The pure parts of the player's HLS paths: which `src` is a playlist (static/player/hls-url.ts,
 * player-config.ts), the LL-HLS URL of a WebSocket URL (token carried), and the VOD loader's
 * timeline (static/player/vod-timeline.ts): absolute URLs with the token, element times, init
 * sections, discontinuity sequences, the segment at a time, Range headers.
 */

import { describe, expect, test } from "bun:test";
import { parseMediaPlaylist } from "../../src/hls/playlist-parse.ts";
import { isPlaylistUrl, liveHlsUrl, resolveWithToken } from "../../static/player/hls-url.ts";
import { resolveSrc } from "../../static/player/player-config.ts";
import { buildTimeline, rangeHeader, segmentAt } from "../../static/player/vod-timeline.ts";

describe("liveHlsUrl: the LL-HLS playlist on the WebSocket's origin", () => {
  test("ws → http, wss → https, /ws/<name> → /hls/<name>/index.m3u8", () => {
    expect(liveHlsUrl("ws://relay.example:8080/ws/cam2", "x")).toBe("http://relay.example:8080/hls/cam2/index.m3u8");
    expect(liveHlsUrl("wss://relay.example/ws/live", "x")).toBe("https://relay.example/hls/live/index.m3u8");
  });

  test("the viewer token is carried, other query parameters are not", () => {
    expect(liveHlsUrl("wss://r.example/ws/cam?token=a.b%2Bc&debug=1", "x")).toBe("https://r.example/hls/cam/index.m3u8?token=a.b%2Bc");
  });

  test("a path prefix (a reverse proxy) is kept; an encoded name stays one path segment", () => {
    expect(liveHlsUrl("wss://r.example/sluice/ws/a%20b", "x")).toBe("https://r.example/sluice/hls/a%20b/index.m3u8");
  });

  test("without a name in the path, the stream attribute names it", () => {
    expect(liveHlsUrl("ws://r.example/ws", "cam 3")).toBe("http://r.example/hls/cam%203/index.m3u8");
    expect(liveHlsUrl("ws://r.example/other/path", "live")).toBe("http://r.example/hls/live/index.m3u8");
  });
});

describe("playlist sources", () => {
  test("isPlaylistUrl: http(s) URLs whose path ends in .m3u8", () => {
    expect(isPlaylistUrl("http://r.example/hls/cam/vod.m3u8?from=1&to=2")).toBe(true);
    expect(isPlaylistUrl("https://r.example/x/INDEX.M3U8")).toBe(true);
    expect(isPlaylistUrl("ws://r.example/ws/cam.m3u8")).toBe(false);
    expect(isPlaylistUrl("http://r.example/ws/cam?x=.m3u8")).toBe(false);
    expect(isPlaylistUrl("not a url")).toBe(false);
  });

  test("resolveSrc keeps a playlist URL as http(s) (resolved against the page) and maps the rest to ws(s)", () => {
    const loc = { href: "https://r.example/watch/cam", protocol: "https:", host: "r.example" } as Location;
    expect(resolveSrc("/hls/cam/vod.m3u8?from=2026-12-01T10:00:00Z&to=x", null, loc)).toBe(
      "https://r.example/hls/cam/vod.m3u8?from=2026-12-01T10:00:00Z&to=x",
    );
    expect(resolveSrc("/ws/cam", null, loc)).toBe("wss://r.example/ws/cam");
  });

  test("resolveWithToken adds the playlist's token to same-origin URIs that lack one, only those", () => {
    const base = "https://r.example/hls/cam/vod.m3u8?from=1&token=T";
    expect(resolveWithToken("/recordings/cam/a.mp4", base)).toBe("https://r.example/recordings/cam/a.mp4?token=T");
    expect(resolveWithToken("a.mp4?token=U", base)).toBe("https://r.example/hls/cam/a.mp4?token=U");
    expect(resolveWithToken("https://cdn.example/a.mp4", base)).toBe("https://cdn.example/a.mp4");
    expect(resolveWithToken("a.mp4", "https://r.example/v.m3u8")).toBe("https://r.example/a.mp4");
  });
});

const PLAYLIST = `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="a.mp4",BYTERANGE="1000@0"
#EXTINF:2,
#EXT-X-BYTERANGE:5000@1000
a.mp4
#EXTINF:1.5,
#EXT-X-BYTERANGE:4000
a.mp4
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="/rec/b.mp4",BYTERANGE="900@0"
#EXTINF:2,
#EXT-X-BYTERANGE:3000@900
/rec/b.mp4
#EXT-X-ENDLIST
`;

describe("buildTimeline", () => {
  const segs = buildTimeline(parseMediaPlaylist(PLAYLIST), "https://r.example/hls/cam/vod.m3u8?token=T");

  test("segments on the element timeline with absolute URLs carrying the token, their init and discontinuity sequence", () => {
    expect(segs.map((s) => [s.start, s.end, s.disc])).toEqual([
      [0, 2, 0],
      [2, 3.5, 0],
      [3.5, 5.5, 1],
    ]);
    expect(segs[1]!.media).toEqual({
      url: "https://r.example/hls/cam/a.mp4?token=T",
      range: { offset: 6000, length: 4000 },
      key: "6000+4000 https://r.example/hls/cam/a.mp4?token=T",
    });
    expect(segs[0]!.init.key).toBe(segs[1]!.init.key);
    expect(segs[2]!.init).toEqual({
      url: "https://r.example/rec/b.mp4?token=T",
      range: { offset: 0, length: 900 },
      key: "0+900 https://r.example/rec/b.mp4?token=T",
    });
  });

  test("segmentAt: the segment playing at a time, clamped to the ends", () => {
    expect([-1, 0, 1.99, 2, 3.49, 3.5, 5.5, 99].map((t) => segmentAt(segs, t))).toEqual([0, 0, 0, 1, 1, 2, 2, 2]);
    expect(segmentAt([], 1)).toBe(-1);
  });

  test("rangeHeader: inclusive last byte (RFC 9110)", () => {
    expect(rangeHeader({ offset: 6000, length: 4000 })).toBe("bytes=6000-9999");
  });

  test("segments without EXT-X-MAP (MPEG-TS) are refused with a reason", () => {
    expect(() =>
      buildTimeline(parseMediaPlaylist("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n"), "https://r.example/x.m3u8"),
    ).toThrow(/without #EXT-X-MAP/);
  });
});
