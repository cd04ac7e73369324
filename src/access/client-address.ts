import { type CidrRange, ipAllowed } from "./cidr.ts";

/** Longest forwarded address kept: anything longer is not an address, and is cut for logs and limits. */
const MAX_ADDRESS_LENGTH = 64;

/**
 * The client's address for allowlists, per-address limits and logs. When the peer (the TCP connection's
 * remote address) lies in `trustedProxies`, the client is read from `X-Forwarded-For` or, when that is
 * absent, from the `for=` parameters of `Forwarded` (RFC 7239 §5.2): the right-most hop that is not
 * itself a trusted proxy, because every hop left of it was written by someone we do not trust. From any
 * other peer, and with no trusted proxies configured, those headers are ignored and the peer is the client.
 * A hop that is not an address (`unknown`, an obfuscated identifier) is returned as written (cut to 64
 * characters): it matches no allowlist and shares its per-address limits with every such client.
 */
export function clientAddress(peer: string, headers: Pick<Headers, "get">, trustedProxies: readonly CidrRange[]): string {
  if (trustedProxies.length === 0 || !ipAllowed(peer, trustedProxies)) return peer;
  const xff = headers.get("x-forwarded-for");
  const hops = xff !== null ? xff.split(",").map(unwrap) : forwardedFor(headers.get("forwarded"));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (hop === "") continue;
    if (!ipAllowed(hop, trustedProxies)) return hop.slice(0, MAX_ADDRESS_LENGTH);
  }
  // Every hop is a trusted proxy (or there is none): the left-most one is as far as we can see.
  return hops.find((h) => h !== "")?.slice(0, MAX_ADDRESS_LENGTH) ?? peer;
}

/** The `for=` values of a `Forwarded` header, in order (RFC 7239 §4: elements by `,`, pairs by `;`). */
function forwardedFor(header: string | null): string[] {
  if (header === null) return [];
  const out: string[] = [];
  for (const element of header.split(",")) {
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === "for") out.push(unwrap(pair.slice(eq + 1)));
    }
  }
  return out;
}

/** `"[2001:db8::1]:4711"` → `2001:db8::1`, `192.0.2.1:80` → `192.0.2.1`, `unknown` as is (RFC 7239 §6). */
function unwrap(raw: string): string {
  let s = raw.trim();
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) s = s.slice(1, -1);
  const v6 = /^\[([^\]]*)\](?::\d+)?$/.exec(s);
  if (v6) return v6[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(s);
  return v4 ? v4[1]! : s;
}
