/**
 * Fetching a resource or a byte range of one for the VOD loader, bounded: at most `maxBytes` are read.
 * A server that ignores `Range` (200 with the whole resource) still works: the range is cut out of
 * what arrives, reading no further than its end.
 */

import { type Resource, rangeHeader } from "./vod-timeline.ts";

/** An HTTP answer the loader should not retry (4xx): the message says what was refused. */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function fetchBytes(res: Resource, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  if (res.range && res.range.length > maxBytes)
    throw new HttpRefusal(0, `a segment of ${res.range.length} bytes is over the ${maxBytes}-byte cap`);
  const r = await fetch(res.url, { signal, headers: res.range ? { range: rangeHeader(res.range) } : {} });
  if (r.status >= 400 && r.status < 500) {
    void r.body?.cancel();
    throw new HttpRefusal(r.status, `HTTP ${r.status} for ${new URL(res.url).pathname}`);
  }
  if (!r.ok) {
    void r.body?.cancel();
    throw new Error(`HTTP ${r.status} for ${new URL(res.url).pathname}`);
  }
  const range = res.range;
  // 206: the body is the range; 200: the whole resource, the range is cut out of it.
  const skip = range && r.status !== 206 ? range.offset : 0;
  const want = range ? range.length : maxBytes;
  const bytes = await readAtMost(r, skip, want, !range);
  if (range && bytes.byteLength !== range.length)
    throw new Error(`${new URL(res.url).pathname}: got ${bytes.byteLength} of ${range.length} bytes of the range`);
  return bytes;
}

/** Reads `want` bytes after skipping `skip`; `capped`: more than `want` in the body is an error. */
async function readAtMost(r: Response, skip: number, want: number, capped: boolean): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let filled = 0;
  let skipped = 0;
  const reader = r.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let chunk = value;
    if (skipped < skip) {
      const n = Math.min(skip - skipped, chunk.byteLength);
      skipped += n;
      chunk = chunk.subarray(n);
    }
    if (filled + chunk.byteLength > want) {
      void reader.cancel();
      if (capped) throw new HttpRefusal(0, `a resource over the ${want}-byte cap`);
      chunk = chunk.subarray(0, want - filled);
    }
    chunks.push(chunk);
    filled += chunk.byteLength;
    if (filled === want && !capped) {
      void reader.cancel();
      break;
    }
  }
  const out = new Uint8Array(filled);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
