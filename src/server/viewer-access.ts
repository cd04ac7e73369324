import { verifyViewerToken } from "../access/secrets.ts";
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
