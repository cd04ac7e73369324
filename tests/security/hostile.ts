import type { Socket } from "bun";
import { concat } from "../helpers/feed.ts";
import { fixture } from "../helpers/fixtures.ts";
import { topLevelBoxes } from "../helpers/media.ts";

/**
 * Hostile publishers for the parser security tests: raw sockets writing at full speed (with
 * backpressure, so the test process itself stays responsive), byte patterns, a /healthz latency probe.
 */

const ascii = (s: string) => new TextEncoder().encode(s);

/** A raw TCP connection that writes as fast as the peer reads and records what it receives. */
export interface RawConnection {
  /** Resolves once every byte of `bytes` was handed to the kernel (false if the peer closed first). */
  write(bytes: Uint8Array): Promise<boolean>;
  end(): void;
  readonly closed: boolean;
  /** Resolves when the connection is closed by either side. */
  readonly done: Promise<void>;
  received(): string;
}

export async function connectRaw(port: number): Promise<RawConnection> {
  let closed = false;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  let drained: (() => void) | undefined;
  let text = "";
  const dec = new TextDecoder();
  const onGone = () => {
    closed = true;
    drained?.();
    finish();
  };
  const sock: Socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, d) => void (text += dec.decode(d, { stream: true })),
      drain: () => drained?.(),
      close: onGone,
      error: onGone,
    },
  });
  return {
    async write(bytes) {
      let off = 0;
      while (off < bytes.byteLength) {
        if (closed) return false;
        const n = sock.write(bytes.subarray(off));
        off += Math.max(0, n);
        if (off < bytes.byteLength) await new Promise<void>((r) => (drained = r));
      }
      return !closed;
    },
    end: () => sock.end(),
    get closed() {
      return closed;
    },
    done,
    received: () => text,
  };
}

/** The init of an fMP4 fixture (every top-level box up to the end of `moov`). */
export function fmp4Init(name = "h264-baseline-aac.mp4"): Uint8Array {
  const file = fixture(name);
  const moov = topLevelBoxes(file).find((b) => b.type === "moov")!;
  return file.slice(0, moov.start + moov.size);
}

/** The first fragment (prefix boxes, moof, mdat) of an fMP4 fixture. */
export function fmp4FirstFragment(name = "h264-baseline-aac.mp4"): Uint8Array {
  const file = fixture(name);
  const boxes = topLevelBoxes(file);
  const moof = boxes.findIndex((b) => b.type === "moof");
  const mdat = boxes.slice(moof).find((b) => b.type === "mdat")!;
  return file.slice(boxes[moof]!.start, mdat.start + mdat.size);
}

/** A box header (32-bit size) of `type` declaring `size` bytes in total. */
export function boxHeader(type: string, size: number): Uint8Array {
  const head = new Uint8Array(8);
  new DataView(head.buffer).setUint32(0, size);
  head.set(ascii(type), 4);
  return head;
}

/** `pairs` × (8-byte `styp` + 8-byte `free`): prefix boxes held between fragments, padding dropped. */
export function stypFreePairs(pairs: number): Uint8Array {
  const pair = concat([boxHeader("styp", 8), boxHeader("free", 8)]);
  const out = new Uint8Array(pair.byteLength * pairs);
  for (let i = 0; i < pairs; i++) out.set(pair, i * pair.byteLength);
  return out;
}

/** The request head of a chunked `PUT /ingest/<name>`. */
export function chunkedPutHead(name: string): Uint8Array {
  return ascii(`PUT /ingest/${name} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Type: video/mp4\r\n\r\n`);
}

/** `payload` as HTTP/1.1 chunked-encoding chunks of `size` bytes each (RFC 9112 §7.1), no last-chunk. */
export function chunked(payload: Uint8Array, size: number): Uint8Array {
  const pieces = Math.ceil(payload.byteLength / size);
  const lastSize = payload.byteLength - (pieces - 1) * size;
  const head = ascii(`${size.toString(16)}\r\n`);
  const lastHead = ascii(`${lastSize.toString(16)}\r\n`);
  const out = new Uint8Array(payload.byteLength + (pieces - 1) * (head.byteLength + 2) + (pieces ? lastHead.byteLength + 2 : 0));
  let o = 0;
  for (let i = 0; i < pieces; i++) {
    const h = i === pieces - 1 ? lastHead : head;
    out.set(h, o);
    o += h.byteLength;
    const n = i === pieces - 1 ? lastSize : size;
    if (n === 1) out[o] = payload[i * size]!;
    else out.set(payload.subarray(i * size, i * size + n), o);
    o += n;
    out[o++] = 0x0d;
    out[o++] = 0x0a;
  }
  return out;
}

/** The terminating zero-length chunk. */
export const LAST_CHUNK = ascii("0\r\n\r\n");

/**
 * Repeatedly GETs `/healthz` (one request at a time, `gapMs` apart) until `stop()`; returns the
 * latencies in ms. A request that takes longer than 5 s counts as 5 s (and is abandoned).
 */
export function probeHealthz(httpPort: number, gapMs = 10): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`/healthz answered ${res.status}`);
      } catch (e) {
        if (!(e instanceof Error && e.name === "TimeoutError")) throw e;
      }
      latencies.push(performance.now() - t0);
      await Bun.sleep(gapMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

/** `n` empty 8-byte `styp` boxes: fragment prefix boxes the parser must keep until the next `moof`. */
export function styps(n: number): Uint8Array {
  const one = boxHeader("styp", 8);
  const out = new Uint8Array(8 * n);
  for (let i = 0; i < n; i++) out.set(one, 8 * i);
  return out;
}

/**
 * Writes `payload` as part of a chunked body in `pieceSize`-byte HTTP chunks, encoding it 64 KiB of
 * payload at a time. Resolves false if the server closed the connection first.
 */
export async function writeChunked(conn: RawConnection, payload: Uint8Array, pieceSize: number): Promise<boolean> {
  for (let o = 0; o < payload.byteLength; o += 64 * 1024) {
    if (!(await conn.write(chunked(payload.subarray(o, Math.min(o + 64 * 1024, payload.byteLength)), pieceSize)))) return false;
  }
  return true;
}

/** The status code of the HTTP response on `conn`, once its head has arrived (within `ms`). */
export async function responseStatus(conn: RawConnection, ms = 30_000): Promise<number> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n[\s\S]*?\r\n\r\n/.exec(conn.received());
    if (m) return Number(m[1]);
    if (conn.closed) throw new Error(`connection closed without a response: ${JSON.stringify(conn.received())}`);
    await Bun.sleep(10);
  }
  throw new Error(`no HTTP response within ${ms} ms: ${JSON.stringify(conn.received())}`);
}

/** Samples `rss()` every 20 ms until `stop()`; returns the peak. */
export function sampleRss(rss: () => number): { stop(): number } {
  let peak = rss();
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rss());
    } catch {
      // the process is gone; the last peak stands
    }
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
