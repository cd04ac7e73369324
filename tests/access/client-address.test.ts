import { describe, expect, test } from "bun:test";
import { parseCidr } from "../../src/access/cidr.ts";
import { clientAddress } from "../../src/access/client-address.ts";

const proxies = ["127.0.0.1/32", "10.0.0.0/8", "::1/128"].map(parseCidr);
const h = (init: Record<string, string>) => new Headers(init);

describe("client address behind trusted proxies", () => {
  test("without trusted proxies the forwarding headers are ignored", () => {
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "10.9.9.9" }), [])).toBe("127.0.0.1");
  });

  test("from a peer that is not a trusted proxy the headers are ignored", () => {
    expect(clientAddress("198.18.0.7", h({ "x-forwarded-for": "10.9.9.9", forwarded: "for=10.9.9.9" }), proxies)).toBe("198.18.0.7");
  });

  test("X-Forwarded-For: the right-most hop that is not a trusted proxy", () => {
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "198.18.0.5" }), proxies)).toBe("198.18.0.5");
    // A client that forges a left part cannot choose its address: the proxy appended the real one.
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "10.1.1.1, 198.18.0.5" }), proxies)).toBe("198.18.0.5");
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "198.18.0.9, 198.18.0.5, 10.0.0.2" }), proxies)).toBe("198.18.0.5");
    expect(clientAddress("::1", h({ "x-forwarded-for": " 2001:db8::7 " }), proxies)).toBe("2001:db8::7");
  });

  test("every hop trusted: the left-most one", () => {
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "10.0.0.3, 10.0.0.2" }), proxies)).toBe("10.0.0.3");
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "" }), proxies)).toBe("127.0.0.1");
  });

  test("Forwarded (RFC 7239) when there is no X-Forwarded-For, quoted and bracketed forms and ports", () => {
    expect(clientAddress("127.0.0.1", h({ forwarded: 'for=198.18.0.5;proto=https, for="[2001:db8:cafe::17]:4711"' }), proxies)).toBe(
      "2001:db8:cafe::17",
    );
    expect(clientAddress("127.0.0.1", h({ forwarded: "for=198.18.0.5:8080;by=10.0.0.1, for=10.0.0.2" }), proxies)).toBe("198.18.0.5");
    expect(clientAddress("127.0.0.1", h({ forwarded: "For=unknown" }), proxies)).toBe("unknown");
  });

  test("X-Forwarded-For wins over Forwarded (a client cannot add a Forwarded header the proxy does not write)", () => {
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "198.18.0.5", forwarded: "for=10.1.2.3" }), proxies)).toBe("198.18.0.5");
  });

  test("a non-address hop is cut to 64 characters", () => {
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "x".repeat(500) }), proxies)).toBe("x".repeat(64));
  });
});
