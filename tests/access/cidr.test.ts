import { describe, expect, test } from "bun:test";
import { ipAllowed, parseCidr, parseIp } from "../../src/access/cidr.ts";
import { DEFAULT_INGEST_ALLOW } from "../../src/config.ts";

const ranges = (s: string) => s.split(",").map(parseCidr);

describe("CIDR allowlists", () => {
  test("the default allows loopback and private networks only", () => {
    const def = ranges(DEFAULT_INGEST_ALLOW);
    for (const a of [
      "127.0.0.1",
      "::1",
      "10.1.2.3",
      "172.16.0.9",
      "172.31.255.255",
      "192.168.1.20",
      "fd00::1",
      "fe80::1%eth0",
      "::ffff:127.0.0.1",
      "::ffff:192.168.0.1",
    ]) {
      expect(ipAllowed(a, def)).toBe(true);
    }
    for (const a of ["8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:db8::1", "::ffff:8.8.8.8", "not-an-ip", ""])
      expect(ipAllowed(a, def)).toBe(false);
  });

  test("prefix lengths cut inside a byte", () => {
    const r = ranges("203.0.113.64/27");
    expect(ipAllowed("203.0.113.64", r)).toBe(true);
    expect(ipAllowed("203.0.113.95", r)).toBe(true);
    expect(ipAllowed("203.0.113.96", r)).toBe(false);
    expect(ipAllowed("203.0.113.63", r)).toBe(false);
  });

  test("a bare address is one host; /0 is everything of its family", () => {
    expect(ipAllowed("198.51.100.7", ranges("198.51.100.7"))).toBe(true);
    expect(ipAllowed("198.51.100.8", ranges("198.51.100.7"))).toBe(false);
    expect(ipAllowed("1.2.3.4", ranges("0.0.0.0/0"))).toBe(true);
    expect(ipAllowed("2001:db8::1", ranges("0.0.0.0/0"))).toBe(false);
    expect(ipAllowed("2001:db8::1", ranges("::/0"))).toBe(true);
  });

  test("IPv6 forms parse to the same bytes", () => {
    expect(parseIp("2001:db8:0:0:0:0:0:1")).toEqual(parseIp("2001:db8::1")!);
    expect(parseIp("::ffff:10.0.0.1")).toEqual(parseIp("10.0.0.1")!);
    expect(parseIp("1::2::3")).toBeUndefined();
    expect(parseIp("12345::")).toBeUndefined();
  });

  test("bad ranges are rejected with a message", () => {
    expect(() => parseCidr("10.0.0.0/33")).toThrow(/prefix length from 0 to 32/);
    expect(() => parseCidr("10.0.0/8")).toThrow(/not an IPv4 or IPv6 address/);
    expect(() => parseCidr("10.0.0.0/8/1")).toThrow(/not an address range/);
  });
});
