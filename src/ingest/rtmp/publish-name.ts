/**
 * The publish command's stream name (RTMP spec §7.2.2.6, "publishing name") as encoders fill it: OBS and
 * ffmpeg put the stream key into it, often as `<stream>?key=K`. Also `app` can carry a query when the key
 * is in the URL's path part (`rtmp://host/live?key=K/stream`).
 */
export interface PublishName {
  streamName: string;
  key: string | undefined;
}

/**
 * Splits `name` at the first `?`: the part before is the stream name, and `key` is the query's `key`
 * parameter (URLSearchParams: percent-decoding, the first of repeated keys). Falls back to the query of
 * `app` for the key. A name without a query has no key.
 */
export function parsePublishName(name: string, app = ""): PublishName {
  const q = name.indexOf("?");
  const streamName = q < 0 ? name : name.slice(0, q);
  const key = queryKey(q < 0 ? "" : name.slice(q + 1)) ?? queryKey(app.includes("?") ? app.slice(app.indexOf("?") + 1) : "");
  return { streamName, key };
}

/** The application name without any query (`live?key=K` → `live`). */
export function appName(app: string): string {
  const q = app.indexOf("?");
  return q < 0 ? app : app.slice(0, q);
}

function queryKey(query: string): string | undefined {
  if (query === "") return undefined;
  // URLSearchParams keeps parameters in a list, never as plain-object properties.
  const key = new URLSearchParams(query).get("key");
  return key === null || key === "" ? undefined : key;
}
