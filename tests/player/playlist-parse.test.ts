/**
 * The HLS media playlist parser (src/hls/playlist-parse.ts): the tags a recording's VOD playlist
 * uses, attribute lists with quoted strings, byte ranges with implied offsets, and hostile input
 * refused with an error naming the line, within caps.
 */

import { describe, expect, test } from "bun:test";
import { PlaylistError, parseAttributeList, parseMediaPlaylist } from "../../src/hls/playlist-parse.ts";

/** A playlist in the shape of Sluice's recording playlists (two files, byte ranges, a token in every URI). */
const VOD = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-PROGRAM-DATE-TIME:2026-12-01T10:00:00.000Z
#EXT-X-MAP:URI="/recordings/cam/a.mp4?token=x%2Cy",BYTERANGE="1352@0"
#EXTINF:2.000,
#EXT-X-BYTERANGE:86813@1352
/recordings/cam/a.mp4?token=x%2Cy
#EXTINF:1.960,
#EXT-X-BYTERANGE:96581
/recordings/cam/a.mp4?token=x%2Cy
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-12-01T11:00:00.000+00:00
#EXT-X-MAP:URI="https://relay.example/recordings/cam/b.mp4",BYTERANGE="900@0"
#EXTINF:2,
#EXT-X-BYTERANGE:5000@900
https://relay.example/recordings/cam/b.mp4
#EXT-X-ENDLIST
`;

describe("parseMediaPlaylist: a VOD playlist", () => {
  const pl = parseMediaPlaylist(VOD);

  test("header tags: version, target duration, type, ENDLIST, independent segments", () => {
    expect(pl).toMatchObject({
      version: 7,
      targetDuration: 2,
      mediaSequence: 0,
      playlistType: "VOD",
      endList: true,
      independentSegments: true,
    });
    expect(pl.segments).toHaveLength(3);
    expect(pl.duration).toBeCloseTo(5.96, 9);
  });

  test("segments carry URI, EXTINF, start, byte range (implied offset resolved) and the EXT-X-MAP in effect", () => {
    const [s0, s1, s2] = pl.segments;
    expect(s0).toMatchObject({
      uri: "/recordings/cam/a.mp4?token=x%2Cy",
      duration: 2,
      start: 0,
      byteRange: { length: 86813, offset: 1352 },
    });
    expect(s0!.map).toEqual({ uri: "/recordings/cam/a.mp4?token=x%2Cy", byteRange: { length: 1352, offset: 0 } });
    // §4.4.4.2: no offset → the byte after the previous segment's sub-range of the same resource.
    expect(s1).toMatchObject({ start: 2, duration: 1.96, byteRange: { length: 96581, offset: 1352 + 86813 } });
    expect(s1!.map).toBe(s0!.map!);
    expect(s2!.map).toEqual({ uri: "https://relay.example/recordings/cam/b.mp4", byteRange: { length: 900, offset: 0 } });
    expect(s2!.start).toBeCloseTo(3.96, 9);
  });

  test("EXT-X-DISCONTINUITY and EXT-X-PROGRAM-DATE-TIME apply to the next segment", () => {
    expect(pl.segments.map((s) => [s.discontinuity, s.discontinuitySequence, s.mediaSequence])).toEqual([
      [false, 0, 0],
      [false, 0, 1],
      [true, 1, 2],
    ]);
    expect(pl.segments.map((s) => s.programDateTime)).toEqual([Date.UTC(2026, 11, 1, 10), undefined, Date.UTC(2026, 11, 1, 11)]);
  });

  test("media and discontinuity sequence numbers start where the playlist says; CRLF line ends work", () => {
    const p = parseMediaPlaylist(
      "#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n#EXT-X-MEDIA-SEQUENCE:17\r\n#EXT-X-DISCONTINUITY-SEQUENCE:3\r\n#EXTINF:4,\r\na.ts\r\n#EXT-X-DISCONTINUITY\r\n#EXTINF:3.5,title, with comma\r\nb.ts\r\n",
    );
    expect(p.segments.map((s) => [s.uri, s.mediaSequence, s.discontinuitySequence])).toEqual([
      ["a.ts", 17, 3],
      ["b.ts", 18, 4],
    ]);
    expect(p.endList).toBe(false);
    expect(p.segments[1]!.map).toBeUndefined();
  });

  test("the LL-HLS tags of a live playlist and unknown tags are skipped; comments too", () => {
    const p = parseMediaPlaylist(`#EXTM3U
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6
#EXT-X-PART-INF:PART-TARGET=0.2
# a comment
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PART:DURATION=0.2,URI="p1.mp4",INDEPENDENT=YES
#EXT-X-FUTURE-TAG:WHATEVER
#EXTINF:1.0,
s1.mp4
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p6.mp4"
`);
    expect(p.segments.map((s) => s.uri)).toEqual(["s1.mp4"]);
    expect(p.segments[0]!.map).toEqual({ uri: "init-1.mp4" });
  });

  test("EXT-X-KEY METHOD=NONE is accepted", () => {
    expect(parseMediaPlaylist("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:1,\na\n").segments).toHaveLength(1);
  });
});

describe("parseAttributeList", () => {
  test("quoted strings keep commas and equals signs; enumerated and numeric values are bare", () => {
    const a = parseAttributeList('URI="a,b=c.mp4",BYTERANGE="10@0",TYPE=PART,DURATION=0.2,RESOLUTION=640x360,EMPTY=""');
    expect([...a]).toEqual([
      ["URI", { value: "a,b=c.mp4", quoted: true }],
      ["BYTERANGE", { value: "10@0", quoted: true }],
      ["TYPE", { value: "PART", quoted: false }],
      ["DURATION", { value: "0.2", quoted: false }],
      ["RESOLUTION", { value: "640x360", quoted: false }],
      ["EMPTY", { value: "", quoted: true }],
    ]);
  });

  test("malformed lists are refused: unterminated quote, missing value, lower-case name, repeated name, junk between", () => {
    for (const bad of ['URI="a.mp4', "URI=", "uri=x", "A=1,A=2", 'URI="a" B=1', "A=1,,B=2", "=x", 'A="x"y']) {
      expect(() => parseAttributeList(bad)).toThrow();
    }
  });

  test("user text used as attribute names never reaches Object.prototype", () => {
    const a = parseAttributeList("CONSTRUCTOR=1,PROTO=2");
    expect(a.get("CONSTRUCTOR")?.value).toBe("1");
    expect(({} as Record<string, unknown>).PROTO).toBeUndefined();
  });
});

describe("parseMediaPlaylist: hostile and broken input → PlaylistError naming the line", () => {
  const refuses = (text: string, message: RegExp, limits = {}) => {
    let error: unknown;
    try {
      parseMediaPlaylist(text, limits);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlaylistError);
    expect((error as Error).message).toMatch(message);
    return error as PlaylistError;
  };
  const H = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n";

  test("missing #EXTM3U, HTML, empty text, binary garbage", () => {
    expect(refuses("#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.mp4\n", /line 1: not an HLS playlist/).line).toBe(1);
    refuses("<!doctype html><title>404</title>", /not an HLS playlist/);
    refuses("", /not an HLS playlist/);
    refuses("\u0000\u00ff\u0001garbage", /not an HLS playlist/);
    refuses("\uFEFF#EXTM3U\n", /not an HLS playlist/); // §4: no byte order mark
  });

  test("a multivariant playlist is named as such", () => {
    refuses('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS="avc1.64001f"\nlow.m3u8\n', /line 2: a multivariant playlist/);
  });

  test("EXTINF, byte range and number rules", () => {
    expect(refuses(`${H}a.mp4\n`, /URI "a.mp4" without a preceding #EXTINF/).line).toBe(3);
    refuses(`${H}#EXTINF:-1,\na\n`, /non-negative number/);
    refuses(`${H}#EXTINF:abc,\na\n`, /non-negative number/);
    refuses(`${H}#EXTINF:1e400,\na\n`, /non-negative number/);
    refuses(`${H}#EXTINF:2,\n`, /the last #EXTINF has no URI/);
    refuses(`${H}#EXTINF:2,\n#EXT-X-BYTERANGE:100\na.mp4\n`, /without an offset must follow a sub-range of the same URI/);
    refuses(`${H}#EXTINF:2,\n#EXT-X-BYTERANGE:100@0\na.mp4\n#EXTINF:2,\n#EXT-X-BYTERANGE:100\nb.mp4\n`, /line 8: .*same URI/);
    refuses(`${H}#EXTINF:2,\n#EXT-X-BYTERANGE:99999999999999999@0\na\n`, /bad byte range/);
    refuses(`${H}#EXTINF:2,\n#EXT-X-BYTERANGE:1@-5\na\n`, /bad byte range/);
    refuses("#EXTM3U\n#EXT-X-TARGETDURATION:two\n", /line 2: #EXT-X-TARGETDURATION must be a decimal integer/);
    refuses("#EXTM3U\n#EXTINF:2,\na\n", /#EXT-X-TARGETDURATION is missing/);
    refuses(`${H}#EXTINF:2,\na\n#EXT-X-MEDIA-SEQUENCE:5\n`, /must come before the first segment/);
    refuses(`${H}#EXT-X-PLAYLIST-TYPE:LIVE\n`, /VOD or EVENT/);
    refuses(`${H}#EXT-X-PROGRAM-DATE-TIME:yesterday\n`, /not an ISO 8601 date-time/);
    refuses(`${H}#EXTM3U\n`, /#EXTM3U again/);
  });

  test("EXT-X-MAP needs a quoted URI; its BYTERANGE is a quoted byte range; encryption is refused", () => {
    refuses(`${H}#EXT-X-MAP:URI=init.mp4\n`, /quoted URI/);
    refuses(`${H}#EXT-X-MAP:BYTERANGE="10@0"\n`, /quoted URI/);
    refuses(`${H}#EXT-X-MAP:URI="i.mp4",BYTERANGE=10@0\n`, /quoted-string/);
    refuses(`${H}#EXT-X-MAP:URI="i.mp4",BYTERANGE="ten"\n`, /bad byte range/);
    refuses(`${H}#EXT-X-MAP:URI="i.mp4",URI="j.mp4"\n`, /appears twice/);
    refuses(`${H}#EXT-X-KEY:METHOD=AES-128,URI="k"\n`, /encrypted segments \(METHOD=AES-128\)/);
  });

  test("caps: the whole text, one line, the segment count; errors quote at most a short excerpt", () => {
    refuses(`${H}${"#EXTINF:1,\na\n".repeat(10)}`, /longer than 50 characters/, { maxChars: 50 });
    const huge = `${H}#EXTINF:1,\n${"x".repeat(100_000)}\n`;
    expect(refuses(huge, /line 4: longer than 16384 characters/).line).toBe(4);
    refuses(`${H}${"#EXTINF:1,\na\n".repeat(11)}`, /more than 10 segments/, { maxSegments: 10 });
    const long = refuses(`${H}#EXT-X-PLAYLIST-TYPE:${"Z".repeat(5000)}\n`, /VOD or EVENT/);
    expect(long.message.length).toBeLessThan(200);
  });

  test("a 100,000-segment playlist parses within the default caps", () => {
    const text = `${H}#EXT-X-MAP:URI="i.mp4"\n${"#EXTINF:2,\n#EXT-X-BYTERANGE:1000\nf.mp4\n".replace("1000", "1000@0")}${"#EXTINF:2,\n#EXT-X-BYTERANGE:1000\nf.mp4\n".repeat(99_999)}#EXT-X-ENDLIST\n`;
    const p = parseMediaPlaylist(text);
    expect(p.segments).toHaveLength(100_000);
    expect(p.segments[99_999]!.byteRange).toEqual({ length: 1000, offset: 99_999_000 });
    expect(p.duration).toBe(200_000);
  });
});
