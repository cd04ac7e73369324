import type { Socket } from "bun";
import { type CidrRange, ipAllowed } from "../access/cidr.ts";
import type { IngestGate } from "./gate.ts";
import { admitPublisher, type PublisherSession, reportRefusal, type Refusal, type SessionDeps } from "./publisher-session.ts";

export interface TcpIngestOptions {
  hostname: string;
  port: number;
  /** The stream this port feeds. */
  stream: string;
  /** Close a publisher silent for this long. */
  idleSeconds: number;
  /** Addresses allowed to publish. */
  allow: readonly CidrRange[];
}

export interface TcpIngest {
  port: number;
  /** Stops listening and closes every publisher connection. */
  stop(): void;
}

/** How long a dropped publisher gets to close its side before the socket is reset. */
const DROP_GRACE_MS = 500;
/** Cap of the bytes held while a publisher waits for its cluster lease (a Redis round trip, normally). */
const ADMIT_BUFFER_BYTES = 4 * 1024 * 1024;

interface Conn {
  closed?: boolean;
  session?: PublisherSession;
  /** Chunks that arrived while the cluster lease was pending (cluster mode), and their size. */
  pending?: Uint8Array[];
  pendingBytes?: number;
  remote: string;
  admitted: boolean;
  lastDataAt: number;
}

/**
 * Raw TCP ingest (`Bun.listen`): each connection is one publisher for `options.stream`. Bytes go to the
 * session as they arrive; a parser error, an idle publisher or a refusal ends that connection only.
 */
export function listenTcpIngest(options: TcpIngestOptions, deps: SessionDeps, gate: IngestGate): TcpIngest {
  const conns = new Set<Socket<Conn>>();
  /**
   * Ends a publisher's connection. A FIN alone goes unnoticed by a publisher that only writes (ffmpeg
   * keeps sending into a half-closed socket), so one still open after a short grace is reset.
   */
  const drop = (socket: Socket<Conn>) => {
    socket.end();
    setTimeout(() => socket.data.closed || socket.terminate(), DROP_GRACE_MS);
  };
  const refuse = (socket: Socket<Conn>, reason: string, message: string) => {
    reportRefusal(deps, options.stream, socket.data.remote, reason, message);
    drop(socket);
  };
  const listener = Bun.listen<Conn>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        const address = socket.remoteAddress;
        socket.data = { remote: `${address}:${socket.remotePort ?? "?"}`, admitted: false, lastDataAt: performance.now() };
        if (!ipAllowed(address, options.allow)) {
          refuse(socket, "address-not-allowed", `${address} is not in --ingest-allow`);
          return;
        }
        if (!gate.admit(address)) {
          refuse(socket, "too-many-from-address", `${address} already has ${gate.maxPerAddress} ingest connections (--max-ingest-per-address)`);
          return;
        }
        socket.data.admitted = true;
        const attach = (session: PublisherSession | Refusal) => {
          const { pending = [], pendingBytes = 0 } = socket.data;
          socket.data.pending = undefined;
          if ("refused" in session) return drop(socket);
          if (pendingBytes > ADMIT_BUFFER_BYTES) {
            session.close();
            return refuse(socket, "admission-buffer-full", `more than ${ADMIT_BUFFER_BYTES} bytes arrived before the cluster lease was settled`);
          }
          socket.data.session = session;
          for (const chunk of pending) if (!session.push(chunk)) return drop(socket);
          if (socket.data.closed) session.close();
          else conns.add(socket);
        };
        const admitted = admitPublisher(options.stream, socket.data.remote, deps, () => drop(socket));
        if (!(admitted instanceof Promise)) return attach(admitted);
        socket.data.pending = [];
        socket.data.pendingBytes = 0;
        void admitted.then(attach);
      },
      data(socket, chunk) {
        const pending = socket.data.pending;
        if (pending) {
          // Cluster mode, lease pending: hold the first bytes (copied), capped; past the cap they are dropped and so is the publisher.
          socket.data.pendingBytes = (socket.data.pendingBytes ?? 0) + chunk.byteLength;
          if (socket.data.pendingBytes <= ADMIT_BUFFER_BYTES) pending.push(new Uint8Array(chunk));
          else pending.length = 0;
          return;
        }
        const session = socket.data.session;
        if (!session) return;
        socket.data.lastDataAt = performance.now();
        if (!session.push(chunk)) drop(socket);
      },
      close(socket) {
        socket.data.closed = true;
        conns.delete(socket);
        if (socket.data.admitted) gate.release(socket.remoteAddress);
        socket.data.admitted = false;
        socket.data.session?.close();
      },
      error(socket, err) {
        socket.data.session?.close({ reason: "socket-error", message: err.message });
      },
    },
  });
  // Bun's own socket.timeout() has coarse granularity and is not reset by incoming data, so idle
  // publishers are found by one watchdog per listener instead.
  const watchdog = setInterval(() => {
    const limit = performance.now() - options.idleSeconds * 1000;
    for (const socket of conns) {
      if (socket.data.lastDataAt >= limit) continue;
      conns.delete(socket);
      socket.data.session?.close({ reason: "idle-timeout", message: `no data for ${options.idleSeconds} s` });
      drop(socket);
    }
  }, Math.min(1000, (options.idleSeconds * 1000) / 4));
  return {
    port: listener.port,
    stop() {
      clearInterval(watchdog);
      listener.stop(true);
      for (const socket of conns) drop(socket);
      conns.clear();
    },
  };
}
