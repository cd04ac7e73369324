import { type CidrRange, ipAllowed } from "../access/cidr.ts";
import { constantTimeEqual, presentedKey, verifyViewerToken } from "../access/secrets.ts";

export interface AccessConfig {
  publishKey: string;
  streamKeys: ReadonlyMap<string, string>;
  ingestAllow: readonly CidrRange[];
  viewerSecret: string;
  allowedOrigins: readonly string[];
  /** Peers whose forwarding headers name the client (see `clientAddress`). */
  trustedProxies: readonly CidrRange[];
}

/** A refusal with the HTTP status to answer and a reason for logs and counters (never a secret). */
export interface Denied {
  status: 401 | 403;
  reason: string;
  message: string;
}

/**
 * May this HTTP request publish `stream`? When a key applies (the stream's own or the global one) the
 * request must present one of them (`?key=` or `Authorization: Bearer`): missing → 401, wrong → 403.
 * With no key configured for the stream, the address must be in the ingest allowlist.
 */
export function checkPublisher(url: URL, authorization: string | null, stream: string, address: string, cfg: AccessConfig): Denied | undefined {
  // A Map, never a plain object: a name such as `__proto__` or `constructor` must not find an inherited value (issue 10).
  const keys = [cfg.streamKeys.get(stream), cfg.publishKey].filter((k): k is string => typeof k === "string" && k !== "");
  if (keys.length > 0) {
    const key = presentedKey(url, authorization);
    if (!key) return { status: 401, reason: "missing-key", message: "a publish key is required (?key= or Authorization: Bearer)" };
    // Compare against every key so the time taken does not reveal which one nearly matched.
    const matches = keys.map((k) => constantTimeEqual(k, key));
    return matches.includes(true) ? undefined : { status: 403, reason: "bad-key", message: "wrong publish key" };
  }
  return ipAllowed(address, cfg.ingestAllow)
    ? undefined
    : { status: 403, reason: "address-not-allowed", message: `${address} may not publish without a key (--ingest-allow, --publish-key)` };
}

/** May this request watch `stream`? Checks the Origin allowlist and, when a secret is set, the signed token. */
export async function checkViewer(url: URL, origin: string | null, stream: string, cfg: AccessConfig, now = Date.now() / 1000): Promise<Denied | undefined> {
  // Browsers always send Origin; non-browser clients may omit it, and could forge it anyway.
  if (cfg.allowedOrigins.length > 0 && origin !== null && !cfg.allowedOrigins.includes(origin)) {
    return { status: 403, reason: "origin-not-allowed", message: `origin ${origin} may not watch (--allowed-origins)` };
  }
  if (!cfg.viewerSecret) return undefined;
  const verdict = await verifyViewerToken(cfg.viewerSecret, stream, url.searchParams.get("token") ?? undefined, now);
  if (verdict.ok) return undefined;
  return verdict.reason === "missing"
    ? { status: 401, reason: "missing-token", message: "this stream needs a viewer token (?token=)" }
    : { status: 403, reason: `token-${verdict.reason}`, message: `viewer token refused: ${verdict.reason}` };
}
