import type { Socket } from "bun";
import type { PublisherAdmission, Refusal } from "./admission.ts";
import type { PublisherSession } from "./publisher-session.ts";

export interface TcpIngestOptions {
  hostname: string;
  port: number;
  /** The stream this port feeds. */
  stream: string;
}

export interface TcpIngest {
  port: number;
  /** Stops listening and closes every publisher connection. */
  stop(): void;
}

/** How long a dropped publisher gets to close its side before the socket is reset. */
const DROP_GRACE_MS = 500;
/** Cap of the bytes held while a publisher waits for its admission (in cluster mode, a Redis round trip). */
const ADMISSION_BUFFER_BYTES = 4 * 1024 * 1024;

interface Conn {
  closed?: boolean;
  session?: PublisherSession;
  /** Chunks that arrived while admission was pending, and their size. */
  pending?: Uint8Array[];
  pendingBytes: number;
  remote: string;
}

/**
 * Raw TCP ingest (`Bun.listen`): each connection is one publisher for `options.stream`, admitted by
 * `PublisherAdmission` (raw TCP carries no key: the address allowlist decides). Bytes that arrive while
 * admission is pending are held, capped; then every byte goes to the session as it arrives. A refusal,
 * a parser error or an idle publisher ends that connection only.
 */
export function listenTcpIngest(options: TcpIngestOptions, admission: PublisherAdmission): TcpIngest {
  const conns = new Set<Socket<Conn>>();
  /**
   * Ends a publisher's connection. A FIN alone goes unnoticed by a publisher that only writes (ffmpeg
   * keeps sending into a half-closed socket), so one still open after a short grace is reset.
   */
  const drop = (socket: Socket<Conn>) => {
    socket.end();
    setTimeout(() => socket.data.closed || socket.terminate(), DROP_GRACE_MS);
  };
  const attach = (socket: Socket<Conn>, result: PublisherSession | Refusal) => {
    const { pending = [], pendingBytes } = socket.data;
    socket.data.pending = undefined;
    if ("refused" in result) return drop(socket);
    const session = result;
    if (pendingBytes > ADMISSION_BUFFER_BYTES) {
      session.close({
        reason: "admission-buffer-full",
        message: `more than ${ADMISSION_BUFFER_BYTES} bytes arrived before the publisher was admitted`,
      });
      return drop(socket);
    }
    socket.data.session = session;
    for (const chunk of pending) if (!session.push(chunk)) return drop(socket);
    if (socket.data.closed) session.close();
  };
  const listener = Bun.listen<Conn>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        const address = socket.remoteAddress;
        socket.data = { remote: `${address}:${socket.remotePort ?? "?"}`, pending: [], pendingBytes: 0 };
        conns.add(socket);
        void admission
          .admit({ stream: options.stream, address, remote: socket.data.remote, keyed: false }, () => drop(socket))
          .then((result) => attach(socket, result));
      },
      data(socket, chunk) {
        const pending = socket.data.pending;
        if (pending) {
          // Admission pending: hold the first bytes (copied: Bun reuses the chunk), capped; past the cap they are dropped, and so is the publisher.
          socket.data.pendingBytes += chunk.byteLength;
          if (socket.data.pendingBytes <= ADMISSION_BUFFER_BYTES) pending.push(new Uint8Array(chunk));
          else pending.length = 0;
          return;
        }
        const session = socket.data.session;
        if (session && !session.push(chunk)) drop(socket);
      },
      close(socket) {
        socket.data.closed = true;
        conns.delete(socket);
        socket.data.session?.close();
      },
      error(socket, err) {
        socket.data.session?.close({ reason: "socket-error", message: err.message });
      },
    },
  });
  return {
    port: listener.port,
    stop() {
      listener.stop(true);
      for (const socket of conns) drop(socket);
      conns.clear();
    },
  };
}
