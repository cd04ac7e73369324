import type { Socket } from "bun";
import { openPublisherSession, type PublisherSession, type SessionDeps } from "./publisher-session.ts";

export interface TcpIngestOptions {
  hostname: string;
  port: number;
  /** The stream this port feeds. */
  stream: string;
  /** Close a publisher silent for this long. */
  idleSeconds: number;
}

export interface TcpIngest {
  port: number;
  /** Stops listening and closes every publisher connection. */
  stop(): void;
}

interface Conn {
  session?: PublisherSession;
  remote: string;
  lastDataAt: number;
}

/**
 * Raw TCP ingest (`Bun.listen`): each connection is one publisher for `options.stream`. Bytes go to the
 * session as they arrive; a parser error, an idle publisher or a refused claim ends that connection only.
 */
export function listenTcpIngest(options: TcpIngestOptions, deps: SessionDeps): TcpIngest {
  const conns = new Set<Socket<Conn>>();
  const listener = Bun.listen<Conn>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        const remote = `${socket.remoteAddress}:${socket.remotePort ?? "?"}`;
        socket.data = { remote, lastDataAt: performance.now() };
        const session = openPublisherSession(options.stream, remote, deps);
        if (typeof session === "string") {
          socket.end();
          return;
        }
        socket.data.session = session;
        conns.add(socket);
      },
      data(socket, chunk) {
        const session = socket.data.session;
        if (!session) return;
        socket.data.lastDataAt = performance.now();
        if (!session.push(chunk)) socket.end();
      },
      close(socket) {
        conns.delete(socket);
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
      socket.end();
    }
  }, Math.min(1000, (options.idleSeconds * 1000) / 4));
  return {
    port: listener.port,
    stop() {
      clearInterval(watchdog);
      listener.stop(true);
      for (const socket of conns) socket.end();
      conns.clear();
    },
  };
}
