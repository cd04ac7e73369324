/**
 * The player element's attributes → configuration (static/player/config.ts). The element and the
 * page location are plain objects with the fields read.
 */

import { describe, expect, test } from "bun:test";
import { boolAttr, CONFIG_ATTRIBUTES, readConfig, resolveSrc } from "../../static/player/player-config.ts";

function loc(href: string): Location {
  const u = new URL(href);
  return { href: u.href, protocol: u.protocol, host: u.host } as Location;
}

function element(attrs: Record<string, string>): Element {
  return { getAttribute: (name: string) => (Object.hasOwn(attrs, name) ? attrs[name]! : null) } as Element;
}

const HTTP = loc("http://relay.example:8080/watch/live");
const HTTPS = loc("https://relay.example/watch/cam");

describe("resolveSrc", () => {
  test("without src: ws(s)://<host>/ws/<stream>, stream defaulting to live", () => {
    expect(resolveSrc(null, null, HTTP)).toBe("ws://relay.example:8080/ws/live");
    expect(resolveSrc(null, "cam2", HTTPS)).toBe("wss://relay.example/ws/cam2");
    expect(resolveSrc("", "  ", HTTP)).toBe("ws://relay.example:8080/ws/live");
    expect(resolveSrc("   ", " cam3 ", HTTP)).toBe("ws://relay.example:8080/ws/cam3");
  });

  test("the stream name is one encoded path segment", () => {
    expect(resolveSrc(null, "a b/../c?d#e", HTTP)).toBe("ws://relay.example:8080/ws/a%20b%2F..%2Fc%3Fd%23e");
  });

  test("a relative src is resolved against the page and mapped to ws(s)", () => {
    expect(resolveSrc("/ws/other", null, HTTP)).toBe("ws://relay.example:8080/ws/other");
    expect(resolveSrc("../ws/x", null, HTTPS)).toBe("wss://relay.example/ws/x");
    expect(resolveSrc("//cdn.example/ws/live", null, HTTPS)).toBe("wss://cdn.example/ws/live");
  });

  test("http(s) URLs become ws(s); ws(s) URLs are kept; src wins over stream", () => {
    expect(resolveSrc("http://a.example/ws/x", "ignored", HTTPS)).toBe("ws://a.example/ws/x");
    expect(resolveSrc("https://a.example/ws/x?token=t", null, HTTP)).toBe("wss://a.example/ws/x?token=t");
    expect(resolveSrc(" wss://b.example:9443/ws/y ", null, HTTP)).toBe("wss://b.example:9443/ws/y");
  });
});

describe("boolAttr", () => {
  test("an absent attribute gives the default", () => {
    expect(boolAttr(null, true)).toBe(true);
    expect(boolAttr(null, false)).toBe(false);
  });

  test("false, 0, no and off (any case, trimmed) are false; anything else, even empty, is true", () => {
    for (const v of ["false", "0", "no", "off", " FALSE ", "Off"]) expect(boolAttr(v, true)).toBe(false);
    for (const v of ["", "true", "1", "yes", "muted", "controls"]) expect(boolAttr(v, false)).toBe(true);
  });
});

describe("readConfig", () => {
  test("defaults: live stream on this host, automatic target, muted, no controls, no stats", () => {
    const c = readConfig(element({}), HTTP);
    expect(c.src).toBe("ws://relay.example:8080/ws/live");
    expect(c.targetLatency).toBeNaN();
    expect(c).toMatchObject({ muted: true, controls: false, stats: false });
  });

  test('boolean attributes: present means on, muted="false" means sound', () => {
    const c = readConfig(element({ muted: "false", controls: "", stats: "stats" }), HTTP);
    expect(c).toMatchObject({ muted: false, controls: true, stats: true });
  });

  test("target-latency: positive seconds, capped at 60; auto, empty or invalid values mean automatic", () => {
    const target = (v: string): number => readConfig(element({ "target-latency": v }), HTTP).targetLatency;
    expect(target("0.5")).toBe(0.5);
    expect(target(" 2 ")).toBe(2);
    expect(target("100")).toBe(60);
    for (const v of ["auto", "AUTO", "", "  ", "0", "-1", "abc", "Infinity", "NaN"]) expect(target(v)).toBeNaN();
  });

  test("the observed attributes are the ones read", () => {
    expect([...CONFIG_ATTRIBUTES].sort()).toEqual(["controls", "muted", "src", "stats", "stream", "target-latency"]);
  });
});
