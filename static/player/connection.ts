/**
 * The viewer WebSocket with automatic reconnects. It knows nothing about media: it hands decoded
 * text messages and binary frames to its owner, and reconnects with `Backoff` on every close except
 * code 1008 (policy violation: retrying cannot help) or an explicit `stop()`.
 */

import { decodeServerMessage, encodeViewerMessage, type ServerMessage, type ViewerMessage } from "../../src/protocol/messages.ts";
import { Backoff } from "./backoff.ts";

/** Why the socket closed, and what happens next. */
export interface CloseInfo {
  code: number;
  reason: string;
  /** A reconnect is scheduled in `retryInMs`. */
  willRetry: boolean;
  retryInMs: number;
}

export interface ConnectionHandlers {
  /** A socket (first or reconnected) is open. */
  open(): void;
  message(msg: ServerMessage): void;
  binary(data: Uint8Array): void;
  close(info: CloseInfo): void;
}

/** Close codes after which a reconnect is pointless. */
const FATAL_CODES = new Set([1008]);

export class Connection {
  #socket: WebSocket | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = true;
  #opens = 0;
  readonly #backoff = new Backoff();

  constructor(
    readonly url: string,
    private readonly handlers: ConnectionHandlers,
  ) {}

  /** Number of times a socket opened after the first one. */
  get reconnects(): number {
    return Math.max(0, this.#opens - 1);
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  /** Closes the socket for good (no reconnect). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const s = this.#socket;
    this.#socket = undefined;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      s.close(1000);
    }
  }

  /** The stream proved healthy: the next reconnect starts from the shortest delay again. */
  markHealthy(): void {
    this.#backoff.reset();
  }

  /** Drops the current socket and connects again now (e.g. a dead-looking connection). */
  reconnectNow(): void {
    if (this.#stopped) return;
    this.stop();
    this.#stopped = false;
    this.#connect();
  }

  /** Sends a small control message if the socket is open. */
  send(msg: ViewerMessage): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(encodeViewerMessage(msg));
  }

  #connect(): void {
    clearTimeout(this.#timer);
    let s: WebSocket;
    try {
      s = new WebSocket(this.url);
    } catch (e) {
      this.handlers.close({ code: 1008, reason: `bad URL ${this.url}: ${(e as Error).message}`, willRetry: false, retryInMs: 0 });
      return;
    }
    s.binaryType = "arraybuffer";
    this.#socket = s;
    s.onopen = () => {
      this.#opens++;
      this.handlers.open();
    };
    s.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data === "string") {
        const msg = decodeServerMessage(ev.data);
        if (msg) this.handlers.message(msg);
      } else if (ev.data instanceof ArrayBuffer) {
        this.handlers.binary(new Uint8Array(ev.data));
      }
    };
    s.onclose = (ev: CloseEvent) => {
      if (this.#socket !== s) return;
      this.#socket = undefined;
      const willRetry = !this.#stopped && !FATAL_CODES.has(ev.code);
      const retryInMs = willRetry ? this.#backoff.next() : 0;
      if (willRetry) this.#timer = setTimeout(() => this.#connect(), retryInMs);
      this.handlers.close({ code: ev.code, reason: ev.reason, willRetry, retryInMs });
    };
  }
}
