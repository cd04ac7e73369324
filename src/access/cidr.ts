/**
 * IP address allowlists in CIDR form (IPv4 and IPv6; IPv4-mapped IPv6 addresses match IPv4 ranges).
 * Pure code: parse once at start, match per connection.
 */
export interface CidrRange {
  /** 16 bytes (IPv4 stored as IPv4-mapped IPv6). */
  bytes: Uint8Array;
  /** Prefix length in bits over the 16-byte form. */
  bits: number;
  text: string;
}

/** Parses `a.b.c.d/n` or `ipv6/n` (a bare address means a single host). Throws an Error saying what is wrong. */
export function parseCidr(text: string): CidrRange {
  const [addr, len, extra] = text.trim().split("/");
  if (!addr || extra !== undefined) throw new Error(`"${text}" is not an address range like 192.168.0.0/16 or fc00::/7`);
  const bytes = parseIp(addr);
  if (!bytes) throw new Error(`"${addr}" in "${text}" is not an IPv4 or IPv6 address`);
  const v4 = !addr.includes(":");
  const max = v4 ? 32 : 128;
  const n = len === undefined ? max : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > max || (len !== undefined && !/^\d+$/.test(len)))
    throw new Error(`"/${len}" in "${text}" is not a prefix length from 0 to ${max}`);
  return { bytes, bits: v4 ? 96 + n : n, text: text.trim() };
}

/** Whether `address` (as Bun reports it) lies in any of `ranges`. Unparseable addresses never match. */
export function ipAllowed(address: string, ranges: readonly CidrRange[]): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  return ranges.some((r) => inRange(ip, r));
}

function inRange(ip: Uint8Array, r: CidrRange): boolean {
  const full = r.bits >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== r.bytes[i]) return false;
  const rest = r.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full]! & mask) === (r.bytes[full]! & mask);
}

/** An address as 16 bytes (IPv4 → ::ffff:a.b.c.d), or undefined. Zone ids (`%eth0`) are ignored. */
export function parseIp(text: string): Uint8Array | undefined {
  const s = text.split("%")[0]!;
  if (!s.includes(":")) {
    const v4 = parseV4(s);
    if (!v4) return undefined;
    const out = new Uint8Array(16);
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(v4, 12);
    return out;
  }
  let head = s;
  let tailV4: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tailV4 = parseV4(s.slice(lastColon + 1));
    if (!tailV4) return undefined;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  if (tailV4) out.set(tailV4, 12);
  return out;
}

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return new Uint8Array(parts.map(Number));
}
