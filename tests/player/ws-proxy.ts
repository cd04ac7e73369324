/**
 * A real WebSocket proxy for the player's browser tests (tests/browser/adaptive-target.test.ts,
 * recovery.test.ts): the page connects to it, it connects to Sluice, and it forwards the server's
 * messages after a delay of the test's choosing, in order (one TCP connection cannot reorder), or
 * holds, alters or drops them. Viewer → server messages pass at once. An init script rewrites the
 * page's WebSocket URLs to it (`redirectScript`).
 */

import type { ServerWebSocket } from "bun";

export interface ProxyRules {
  /** Extra delay (ms) for the server's message number `n` (0-based, text and binary alike). */
  delayMs?(n: number): number;
  /** Replaces a binary message (return undefined to drop it); `n` counts binary messages only. */
  binary?(bytes: Uint8Array, n: number): Uint8Array | undefined;
}

export interface WsProxy {
  port: number;
  /** Binary messages forwarded so far (all connections). */
  readonly forwarded: number;
  /** Holds every server message from now on until `release()` (a stalled link), which sends the held ones at once. */
  hold(): void;
  release(): void;
  rules: ProxyRules;
  stop(): void;
}

interface Link {
  upstream: WebSocket;
  /** Wall time (ms) at which the last queued message is due. */
  lastAt: number;
  messages: number;
  /** Messages to send to the page in this order, each at its due time (never out of order). */
  queue: Array<{ at: number; msg: string | Uint8Array }>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Starts a proxy in front of `target` (e.g. `ws://127.0.0.1:8080`); the path of each connection is kept. */
export function startWsProxy(target: string, rules: ProxyRules = {}): WsProxy {
  let held = false;
  let forwarded = 0;
  let binaries = 0;
  const links = new Set<ServerWebSocket<Link>>();
  /** Sends every queued message that is due, in order; waits for the next one (unless held). */
  const drain = (ws: ServerWebSocket<Link>): void => {
    const link = ws.data;
    clearTimeout(link.timer);
    link.timer = undefined;
    if (held) return;
    const now = Date.now();
    while (link.queue.length > 0 && link.queue[0]!.at <= now) {
      const { msg } = link.queue.shift()!;
      if (ws.readyState !== 1) continue;
      ws.send(msg);
      if (typeof msg !== "string") forwarded++;
    }
    if (link.queue.length > 0) link.timer = setTimeout(() => drain(ws), link.queue[0]!.at - now);
  };
  const server = Bun.serve<Link>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      const url = new URL(req.url);
      const upstream = new WebSocket(`${target}${url.pathname}${url.search}`);
      upstream.binaryType = "arraybuffer";
      if (srv.upgrade(req, { data: { upstream, lastAt: 0, messages: 0, queue: [], timer: undefined } })) return undefined;
      upstream.close();
      return new Response("WebSocket only", { status: 400 });
    },
    websocket: {
      open(ws) {
        links.add(ws);
        const link = ws.data;
        link.upstream.onmessage = (ev: MessageEvent) => {
          let msg: string | Uint8Array | undefined = typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data as ArrayBuffer);
          if (typeof msg !== "string" && rules.binary) msg = rules.binary(msg, binaries);
          if (typeof ev.data !== "string") binaries++;
          if (msg === undefined) return;
          const at = Math.max(link.lastAt, Date.now() + (rules.delayMs?.(link.messages++) ?? 0));
          link.lastAt = at;
          link.queue.push({ at, msg });
          if (link.queue.length === 1) drain(ws);
        };
        // 1005/1006 (no status, abnormal) cannot be sent: pass those on as a normal close.
        link.upstream.onclose = (ev) =>
          ws.close(ev.code === 1000 || (ev.code >= 1007 && ev.code <= 4999 && ev.code !== 1015) ? ev.code : 1000, ev.reason);
      },
      message(ws, msg) {
        const up = ws.data.upstream;
        if (up.readyState === WebSocket.OPEN) up.send(msg);
        else up.addEventListener("open", () => up.send(msg), { once: true });
      },
      close(ws) {
        links.delete(ws);
        clearTimeout(ws.data.timer);
        ws.data.upstream.close();
      },
    },
  });
  return {
    port: server.port!,
    get forwarded() {
      return forwarded;
    },
    rules,
    hold() {
      held = true;
    },
    release() {
      held = false;
      const now = Date.now();
      for (const ws of links) {
        for (const q of ws.data.queue) q.at = Math.min(q.at, now);
        ws.data.lastAt = now;
        drain(ws);
      }
    },
    stop() {
      for (const ws of links) ws.close();
      server.stop(true);
    },
  };
}

/** A page init script that points every WebSocket of the page at the proxy on `port` instead of `from` (host:port). */
export function redirectScript(from: string, port: number): string {
  return `(() => {
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url, protocols) { super(String(url).replace(${JSON.stringify(from)}, "127.0.0.1:${port}"), protocols); }
    };
  })();`;
}
