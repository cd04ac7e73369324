/**
 * Publish keys and signed viewer tokens. Web Crypto only (HMAC-SHA256), comparisons in constant time,
 * and nothing here ever logs or returns a secret.
 */
const enc = new TextEncoder();

/** Compares two strings in time that depends only on their lengths, not on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = enc.encode(a);
  const y = enc.encode(b);
  let diff = x.byteLength ^ y.byteLength;
  for (let i = 0; i < x.byteLength; i++) diff |= x[i]! ^ (y[i % Math.max(1, y.byteLength)] ?? 0);
  return diff === 0;
}

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
}

function base64url(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/**
 * A viewer token for `stream` valid until `expiresAt` (Unix seconds): `<expiresAt>.<base64url HMAC-SHA256
 * over "<stream>.<expiresAt>">`. Mint with `bun run scripts/mint-token.ts`.
 */
export async function mintViewerToken(secret: string, stream: string, expiresAt: number): Promise<string> {
  const exp = Math.floor(expiresAt);
  return `${exp}.${base64url(await hmac(secret, `${stream}.${exp}`))}`;
}

export type TokenVerdict = { ok: true } | { ok: false; reason: "missing" | "malformed" | "expired" | "bad-signature" };

/** Checks a viewer token for `stream` at `now` (Unix seconds). */
export async function verifyViewerToken(secret: string, stream: string, token: string | undefined, now: number): Promise<TokenVerdict> {
  if (!token) return { ok: false, reason: "missing" };
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: "malformed" };
  const expected = await mintViewerToken(secret, stream, Number(m[1]));
  // Check the signature before the expiry so both failures take the same time.
  const signed = constantTimeEqual(expected, token);
  if (!signed) return { ok: false, reason: "bad-signature" };
  if (Number(m[1]) < now) return { ok: false, reason: "expired" };
  return { ok: true };
}

/** The expiry (Unix seconds) a viewer token states, undefined when it is not shaped like one (not a verification). */
export function viewerTokenExpiry(token: string): number | undefined {
  const m = /^(\d{1,12})\./.exec(token);
  return m ? Number(m[1]) : undefined;
}

/** Extracts a key from `?key=` or `Authorization: Bearer <key>`. */
export function presentedKey(url: URL, authorization: string | null | undefined): string | undefined {
  const bearer = authorization && /^Bearer\s+(.+)$/i.exec(authorization.trim());
  return bearer ? bearer[1] : (url.searchParams.get("key") ?? undefined);
}
