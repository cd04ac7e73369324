import { verifyViewerToken, viewerTokenExpiry } from "../access/secrets.ts";
import type { Config } from "../config.ts";

/** What viewer access needs of the config: the token secret and the Origin allowlist. */
export type ViewerAccessConfig = Pick<Config, "viewerSecret" | "allowedOrigins">;

/** A refusal with the HTTP status to answer and a reason for logs and counters (never a secret). */
export interface Denied {
  status: 401 | 403;
  reason: string;
  message: string;
}

/** May this request watch `stream`? Checks the Origin allowlist and, when a secret is set, the signed token. */
export async function checkViewer(
  url: URL,
  origin: string | null,
  stream: string,
  cfg: ViewerAccessConfig,
  now = Date.now() / 1000,
): Promise<Denied | undefined> {
  return originDenied(origin, cfg) ?? (await tokenDenied(url, stream, cfg, now));
}

function originDenied(origin: string | null, cfg: ViewerAccessConfig): Denied | undefined {
  // Browsers always send Origin; non-browser clients may omit it, and could forge it anyway.
  if (cfg.allowedOrigins.length > 0 && origin !== null && !cfg.allowedOrigins.includes(origin)) {
    return { status: 403, reason: "origin-not-allowed", message: `origin ${origin} may not watch (--allowed-origins)` };
  }
  return undefined;
}

async function tokenDenied(url: URL, stream: string, cfg: ViewerAccessConfig, now: number): Promise<Denied | undefined> {
  if (!cfg.viewerSecret) return undefined;
  const verdict = await verifyViewerToken(cfg.viewerSecret, stream, url.searchParams.get("token") ?? undefined, now);
  if (verdict.ok) return undefined;
  return verdict.reason === "missing"
    ? { status: 401, reason: "missing-token", message: "this stream needs a viewer token (?token=)" }
    : { status: 403, reason: `token-${verdict.reason}`, message: `viewer token refused: ${verdict.reason}` };
}

/**
 * `checkViewer` for requests that repeat many times a second (LL-HLS parts and blocking reloads: an HMAC
 * per request adds up with a thousand players): a token it verified for a stream is remembered until it
 * expires, at most `rememberMs`, in a table of at most `size` entries (cleared when full). The Origin rule
 * is checked every time.
 */
export function cachedViewerCheck(cfg: ViewerAccessConfig, size = 4096, rememberMs = 60_000) {
  const verified = new Map<string, number>();
  return async (url: URL, origin: string | null, stream: string): Promise<Denied | undefined> => {
    const denied = originDenied(origin, cfg);
    if (denied || !cfg.viewerSecret) return denied;
    const token = url.searchParams.get("token") ?? "";
    const key = `${stream}\u0000${token}`;
    const nowMs = Date.now();
    if ((verified.get(key) ?? 0) > nowMs) return undefined;
    const refused = await tokenDenied(url, stream, cfg, nowMs / 1000);
    if (refused) return refused;
    if (verified.size >= size) verified.clear();
    verified.set(key, Math.min((viewerTokenExpiry(token) ?? 0) * 1000, nowMs + rememberMs));
    return undefined;
  };
}
