/**
 * URLs of the HLS paths: which `src` names a playlist, where a stream's LL-HLS playlist is for a
 * WebSocket URL, and carrying the viewer token (`?token=`) onto same-origin URLs. Pure (URL only).
 */

/** True when `src` is an http(s) URL whose path ends in `.m3u8` (an HLS playlist, e.g. a recording's VOD playlist). */
export function isPlaylistUrl(src: string): boolean {
  try {
    const url = new URL(src);
    return (url.protocol === "http:" || url.protocol === "https:") && url.pathname.toLowerCase().endsWith(".m3u8");
  } catch {
    return false;
  }
}

/**
 * The LL-HLS playlist of the stream that a WebSocket URL plays, on the same origin:
 * `ws(s)://host[/prefix]/ws/<name>?token=t` → `http(s)://host[/prefix]/hls/<name>/index.m3u8?token=t`.
 * A URL without a stream name in its path (`/ws`, or a path not ending in `/ws/<name>`) uses
 * `stream`. Only the `token` query parameter is carried over.
 */
export function liveHlsUrl(wsUrl: string, stream: string): string {
  const ws = new URL(wsUrl);
  const m = /^(.*?)\/ws(?:\/([^/]+))?\/?$/.exec(ws.pathname);
  const prefix = m ? m[1]! : "";
  const name = m?.[2] ?? encodeURIComponent(stream);
  const url = new URL(
    `${ws.protocol === "wss:" || ws.protocol === "https:" ? "https:" : "http:"}//${ws.host}${prefix}/hls/${name}/index.m3u8`,
  );
  const token = ws.searchParams.get("token");
  if (token !== null) url.searchParams.set("token", token);
  return url.href;
}

/**
 * `uri` resolved against `base`; when `base` carries a viewer token and the result is on the same
 * origin without one, the token is added (a playlist whose URIs do not repeat the token still plays).
 */
export function resolveWithToken(uri: string, base: string): string {
  const b = new URL(base);
  const url = new URL(uri, b);
  const token = b.searchParams.get("token");
  if (token !== null && url.origin === b.origin && !url.searchParams.has("token")) url.searchParams.set("token", token);
  return url.href;
}
